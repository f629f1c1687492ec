"""A reload of gunicorn's workers under load resets no connection.

`kill -HUP` is how a new release is put live: new workers start and the old ones finish
what they hold. The connections waiting to be accepted must reach a new worker, not be
reset. That holds because gunicorn.conf.py keeps one listening socket, opened by the master
and shared by every worker: with a socket per worker (gunicorn's reuse_port) the
connections queued on an old worker's socket were reset (30 in one run; 56 in one run of
25 even with the kernel's net.ipv4.tcp_migrate_req, as the master stops old workers
before the new ones have bound theirs).
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.e2e.conftest import BIN, ROOT, stop_processes

pytestmark = pytest.mark.e2e

APP = """
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
"""


def _answered(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/")
        return connection.getresponse().read() == b"ok"
    except OSError:
        return False
    finally:
        connection.close()


def test_a_reload_under_load_resets_no_connection(tmp_path: Path) -> None:
    # a bare WSGI app under the project's gunicorn.conf.py: what is tested is the sockets
    (tmp_path / "bare.py").write_text(APP)
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "WEB_WARMUP": "0", "WEB_ACCESS_LOG": ""}
    with log.open("w") as out:
        web = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "-w", "2"]
            + ["-b", f"127.0.0.1:{port}", "bare:app"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while not _answered(port):
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)

        results = {"ok": 0, "failed": 0}
        lock = threading.Lock()
        stop = threading.Event()

        def client() -> None:  # a new connection a request, as residents' phones make them
            while not stop.is_set():
                ok = _answered(port)
                with lock:
                    results["ok" if ok else "failed"] += 1

        threads = [threading.Thread(target=client) for _ in range(16)]
        for thread in threads:
            thread.start()
        for _ in range(3):
            time.sleep(1.0)
            web.send_signal(signal.SIGHUP)
        time.sleep(1.5)
        stop.set()
        for thread in threads:
            thread.join()
    finally:
        stop_processes([web])

    booted = re.findall(r"Booting worker with pid: (\d+)", log.read_text())
    assert len(booted) >= 8, log.read_text()  # two workers, then two more at each reload
    assert results["ok"] > 1000, results
    assert results["failed"] == 0, results

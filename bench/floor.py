"""What a POST costs gunicorn and Flask before city311's code runs: the floor under intake.

Serves, with the repository's gunicorn.conf.py, an empty WSGI app and a minimal Flask view
(each reads the form and answers a small JSON list, as an Open311 POST does), and sends each
the same form POST `bench/open311_intake.py` sends, from the same keep-alive client. It
prints requests/s, p50/p99 and the gunicorn processes' CPU time per request, with the access
log on and off. Set beside the intake benchmark's web CPU per request of the same hour, it
says how much of that is the server and the framework, and how much the app.

    .venv/bin/python bench/floor.py --requests 8000

It prints figures only; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    ROOT,
    drive,
    free_port,
    percentile,
    process_cpu_seconds,
    stop,
    web_pids,
)
from open311_intake import form_body, post_request  # noqa: E402

APPS = """
from flask import Flask, request

def bare(environ, start_response):
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    body = b'[{"service_request_id":"1"}]'
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]

flask_app = Flask(__name__)

@flask_app.post("/open311/v2/requests.json")
def post():
    return [{"service_request_id": "1", "service_code": request.values.get("service_code")}]
"""


def measure(folder: str, target: str, access_log: bool, args: argparse.Namespace) -> str:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "WEB_ACCESS_LOG": "-" if access_log else ""}
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    proc = subprocess.Popen(
        [gunicorn, "-c", str(ROOT / "gunicorn.conf.py"), "--chdir", folder, target],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        raw = post_request(form_body("key", 1, True, (42.35, -71.06)))
        deadline = time.monotonic() + 60
        while True:  # until every worker has booted and answers
            done = asyncio.run(drive(port, [raw] * 50, 4, 10))
            if done["statuses"].get(200) == 50 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        pids = web_pids(proc)
        before = process_cpu_seconds(pids)
        done = asyncio.run(drive(port, [raw] * args.requests, args.concurrency, 120))
        cpu = process_cpu_seconds(pids) - before
    finally:
        stop(proc)
    latencies = sorted(done["latencies"])
    n = len(latencies) or 1
    return (
        f"  {target:<20} access log {'on ' if access_log else 'off'}"
        f"  {n / done['elapsed']:6.0f} requests/s  p50 {percentile(latencies, 50) * 1000:5.1f}"
        f"  p99 {percentile(latencies, 99) * 1000:5.1f} ms  web CPU {cpu / n * 1000:5.2f} ms"
        f"  answers {done['statuses']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=8000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "floor_apps.py").write_text(APPS)
        print(f"{args.requests} form POSTs from {args.concurrency} connections, gunicorn.conf.py")
        for target in ("floor_apps:bare", "floor_apps:flask_app"):
            for access_log in (True, False):
                print(measure(folder, target, access_log, args), flush=True)


if __name__ == "__main__":
    main()

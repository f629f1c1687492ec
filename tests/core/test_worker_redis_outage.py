"""The worker outlives a Redis restart while it is busy: it reconnects and takes jobs again.

The test starts its own redis-server on a free port, so that stopping it harms no one else.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue

from tests.conftest import TEST_DB_URL, free_port

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
PREFIX = "city311-outage-test"

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="no redis-server")


def _wait(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


class PrivateRedis:
    """A redis-server of the test's own, without persistence, that the test stops and starts."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = Redis.from_url(self.url)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except Exception:
                return False

        try:
            assert _wait(answers, 10), "the private redis-server did not start"
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def test_a_busy_worker_survives_redis_going_away_and_coming_back(
    app, tmp_path, private_redis
) -> None:
    env = {
        **os.environ,
        "CITY311_ENV": "development",
        "DATABASE_URL": TEST_DB_URL,
        "REDIS_URL": private_redis.url,
        "RQ_QUEUE_PREFIX": PREFIX,
        "SECRET_KEY": "outage-test",
        "CITY311_INSTANCE_PATH": str(tmp_path),
        "PYTHONPATH": str(ROOT),
    }
    log = tmp_path / "worker.log"
    busy = tmp_path / "busy"
    after = tmp_path / "after"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [str(BIN / "flask"), "--app", "wsgi", "worker", "--no-sweep"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        with Redis.from_url(private_redis.url) as redis:
            Queue(f"{PREFIX}-default", connection=redis).enqueue(
                "tests.core.jobs.slow_touch", str(busy), 2.0
            )
        assert _wait(Path(f"{busy}.started").exists, 15), log.read_text()
        private_redis.stop()  # while the job runs
        assert _wait(busy.exists, 10), log.read_text()  # the job itself finishes
        time.sleep(3)  # the worker has found Redis gone
        assert worker.poll() is None, log.read_text()

        private_redis.start()
        with Redis.from_url(private_redis.url) as redis:
            queue = Queue(f"{PREFIX}-default", connection=redis)
            queue.enqueue("tests.core.jobs.touch", str(after))
        assert _wait(after.exists, 40), log.read_text()
        assert worker.poll() is None, log.read_text()
    finally:
        worker.terminate()
        worker.wait(timeout=15)
    # told to stop, it stops, and cleanly
    assert worker.returncode == 0, log.read_text()

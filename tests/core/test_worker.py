"""The worker as a real process: it keeps listening while the queues are idle."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from redis import Redis
from rq import Queue

from tests.conftest import TEST_DB_URL

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
PREFIX = "city311-idle-test"


def test_an_idle_worker_still_takes_a_job_at_once(app, tmp_path):
    redis_url = app.config["REDIS_URL"]
    env = {
        **os.environ,
        "CITY311_ENV": "development",
        "DATABASE_URL": TEST_DB_URL,
        "REDIS_URL": redis_url,
        "RQ_QUEUE_PREFIX": PREFIX,
        "SECRET_KEY": "worker-test",
        "CITY311_INSTANCE_PATH": str(tmp_path),
        "PYTHONPATH": str(ROOT),
    }
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [str(BIN / "flask"), "--app", "wsgi", "worker", "--no-sweep"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        # longer than the 5 s socket timeout of the web's Redis connection
        time.sleep(7)
        assert worker.poll() is None, log.read_text()
        redis = Redis.from_url(redis_url)
        redis.delete("idle-test-mark")
        Queue(f"{PREFIX}-default", connection=redis).enqueue(
            "tests.core.jobs.mark", "idle-test-mark"
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and redis.get("idle-test-mark") is None:
            time.sleep(0.1)
        output = log.read_text()
        assert redis.get("idle-test-mark") == b"done", output
        assert "could not connect to Redis" not in output, output
    finally:
        worker.terminate()
        worker.wait(timeout=10)

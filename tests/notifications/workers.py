"""Real `flask worker` processes draining the outbox of a database of the test's own.

Shared by the tests that kill a worker, or its database connections, in the middle of a batch.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from flask import Flask
from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from tests import factories
from tests.conftest import SlowMailbox, db_url, recreate_database

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]


class CountingMailbox(SlowMailbox):
    """Slow enough that a batch is still going when the test strikes; counts by outbox row."""

    def outbox_ids(self) -> Counter[str]:
        with self.arrived:
            return Counter(str(m["X-City311-Outbox"]) for m in self.messages)


@contextmanager
def committed_app(db_name: str, prefix: str, smtp_port: int, media_root: Path) -> Iterator[Flask]:
    """Yield an app on a fresh database `db_name` (migrated, with the test city committed)."""
    recreate_database(db_name)
    app = create_app(
        "test",
        {
            "SQLALCHEMY_DATABASE_URI": db_url(db_name),
            "REDIS_URL": REDIS_URL,
            "RQ_QUEUE_PREFIX": prefix,
            "MEDIA_ROOT": str(media_root),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": smtp_port,
        },
    )
    with app.app_context():
        upgrade()
        factories.make_city()
        db.session.commit()
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


def start_worker(app: Flask, port: int, log: IO[str], **env: str) -> subprocess.Popen:
    """Start `flask worker` on `app`'s database and queues, sending to the SMTP server on `port`."""
    return subprocess.Popen(
        [str(BIN / "flask"), "--app", "wsgi", "worker"],
        cwd=ROOT,
        env={
            **os.environ,
            "CITY311_ENV": "development",
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": REDIS_URL,
            "RQ_QUEUE_PREFIX": app.config["RQ_QUEUE_PREFIX"],
            "SECRET_KEY": "worker-test-secret",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(port),
            "MEDIA_ROOT": app.config["MEDIA_ROOT"],
            "PUBLIC_BASE_URL": "http://127.0.0.1:9",
            **env,
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def forget_queues(app: Flask) -> None:
    """Drop what an earlier run left in Redis under this app's prefix."""
    with app.app_context():
        redis = app.extensions["rq"].redis
        keys = redis.keys(f"{app.config['RQ_QUEUE_PREFIX']}:*")
        if keys:
            redis.delete(*keys)

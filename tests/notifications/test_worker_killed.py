"""A worker killed with SIGKILL in the middle of a batch: every message still arrives, soon.

A real `flask worker` process drains the outbox of a database of this module's own into a
slow loopback SMTP server; it is killed while sending, and a fresh worker takes over. The
test prints how long the rest of the batch waited and how many messages arrived twice.
"""

from __future__ import annotations

import signal
import subprocess
import time
from typing import IO

from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.notifications.models import Outbox
from tests.conftest import TEST_DB
from tests.notifications import workers
from tests.notifications.conftest import submit
from tests.notifications.workers import wait_until

WORKER_DB = f"{TEST_DB}_killed"
WORKER_PREFIX = "city311-killed"
OWED = 40
SWEEP_SECONDS = 2
SENDING_LEASE = 5


def _statuses(app: Flask) -> dict[str, int]:
    """Count the outbox rows by status."""
    with app.app_context():
        try:
            return dict(
                db.session.execute(
                    select(Outbox.status, func.count()).group_by(Outbox.status)
                ).all()
            )
        finally:
            db.session.rollback()


def start_worker(app: Flask, port: int, log: IO[str]) -> subprocess.Popen:
    return workers.start_worker(
        app,
        port,
        log,
        OUTBOX_SWEEP_SECONDS=str(SWEEP_SECONDS),
        OUTBOX_SENDING_LEASE_SECONDS=str(SENDING_LEASE),
    )


def test_a_worker_killed_mid_batch_loses_nothing_and_delays_little(
    worker_app, worker_smtp, tmp_path
):
    port, mailbox = worker_smtp
    log_path = tmp_path / "worker.log"
    log = log_path.open("a")
    workers.forget_queues(worker_app)
    with worker_app.app_context():
        for i in range(OWED):
            submit(email=f"killed{i}@example.org")
        db.session.commit()  # one wake-up: one drain job for the whole batch
        owed = set(map(str, db.session.scalars(select(Outbox.id))))
        db.session.rollback()
    assert len(owed) == OWED

    first = start_worker(worker_app, port, log)  # the log is closed in `finally`
    second = None
    try:
        assert wait_until(lambda: len(mailbox.messages) >= OWED // 4, 30), log_path.read_text()
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed_at = time.monotonic()
        arrived_before = len(mailbox.outbox_ids())
        second = start_worker(worker_app, port, log)
        complete = wait_until(lambda: set(mailbox.outbox_ids()) >= owed, 60)
        recovery = time.monotonic() - killed_at
        # the last message reaches the mailbox a moment before its row is marked sent
        wait_until(lambda: _statuses(worker_app) == {"sent": OWED}, 10)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(10)
        log.close()

    received = mailbox.outbox_ids()
    duplicates = sum(n - 1 for n in received.values())
    statuses = _statuses(worker_app)
    print(
        f"\nworker SIGKILLed after {arrived_before}/{OWED} messages; all {len(received)} "
        f"arrived {recovery:.1f} s after the kill; duplicates: {duplicates}; rows: {statuses}"
    )
    assert complete, log_path.read_text()
    assert set(received) == owed
    assert statuses == {"sent": OWED}
    # only the one row the dead worker was sending can have left twice
    assert duplicates <= 1
    # the rest of the batch waits for the drain lease and a sweep, not for rq's minutes
    assert recovery < 10 + SENDING_LEASE + 3 * SWEEP_SECONDS + 10

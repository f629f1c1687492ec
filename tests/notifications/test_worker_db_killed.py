"""The worker's PostgreSQL connections killed mid-batch: it keeps running, and sends each once.

A real `flask worker` drains the outbox of a database of this module's own into a slow
loopback SMTP server. While it sends, every server process of that database is ended with
`pg_terminate_backend` (as a database restart or a failover does), three times. The worker
must stay up, reconnect, and deliver every owed message exactly once.
"""

from __future__ import annotations

import time

import psycopg
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.notifications.models import Outbox
from tests.conftest import ADMIN_DSN, TEST_DB
from tests.notifications import workers
from tests.notifications.conftest import submit
from tests.notifications.workers import wait_until

WORKER_DB = f"{TEST_DB}_pgkill"
WORKER_PREFIX = "city311-pgkill"
OWED = 60
KILLS = 3


def terminate_backends(name: str) -> int:
    """End every server process connected to database `name`; return how many."""
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchone()
    return int(row[0]) if row else 0


def statuses(app: Flask) -> dict[str, int]:
    """Return how many outbox rows are in each status."""
    with app.app_context():
        try:
            return dict(
                db.session.execute(
                    select(Outbox.status, func.count()).group_by(Outbox.status)
                ).all()
            )
        finally:
            db.session.remove()


def test_a_worker_whose_database_connections_are_killed_sends_each_message_once(
    worker_app, worker_smtp, tmp_path
):
    port, mailbox = worker_smtp
    log_path = tmp_path / "worker.log"
    workers.forget_queues(worker_app)
    with worker_app.app_context():
        for i in range(OWED):
            submit(email=f"pgkill{i}@example.org")
        db.session.commit()
        owed = set(map(str, db.session.scalars(select(Outbox.id))))
        db.session.rollback()
        db.engine.dispose()  # the test's own connections are not the worker's
    assert len(owed) == OWED

    kills: list[tuple[int, int]] = []
    with log_path.open("a") as log:
        worker = workers.start_worker(
            worker_app, port, log, OUTBOX_SWEEP_SECONDS="2", OUTBOX_BACKOFF_SECONDS="1"
        )
        try:
            for n in range(1, KILLS + 1):
                arrived = n * OWED // (KILLS + 2)
                assert wait_until(lambda a=arrived: len(mailbox.messages) >= a, 60), (
                    log_path.read_text()
                )
                kills.append((len(mailbox.messages), terminate_backends(WORKER_DB)))
                time.sleep(0.3)
            assert worker.poll() is None, log_path.read_text()
            complete = wait_until(lambda: set(mailbox.outbox_ids()) >= owed, 90)
            # a result being recorded through a reconnect settles within seconds
            recorded = wait_until(lambda: statuses(worker_app) == {"sent": OWED}, 20)
            time.sleep(1)  # anything sent twice would arrive now
            running = worker.poll() is None
        finally:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(15)

    received = mailbox.outbox_ids()
    duplicates = sum(n - 1 for n in received.values())
    rows = statuses(worker_app)
    print(
        f"\nbackends killed (messages arrived so far, processes ended): {kills}; "
        f"owed {OWED}, arrived {len(received)} distinct, {sum(received.values())} in all; "
        f"duplicates: {duplicates}; rows: {rows}; worker running: {running}"
    )
    assert all(ended >= 1 for _, ended in kills), "the worker held no connection to kill"
    assert running, log_path.read_text()
    assert complete, log_path.read_text()
    assert set(received) == owed
    assert duplicates == 0, log_path.read_text()
    assert recorded and rows == {"sent": OWED}, log_path.read_text()
    assert worker.returncode == 0, log_path.read_text()

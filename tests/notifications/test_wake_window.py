"""A burst of POSTs notifies the worker a few times, and every receipt still arrives at once.

A POST's intake statement commits itself and leaves its NOTIFY out for a moment after the
last one its process sent (PostgreSQL serialises the commits that notify). A real `flask
worker`, whose sweep is an hour away, must deliver every receipt of the burst all the same:
the wake-up that follows each burst drains the reports committed without a notification.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from flask import Flask

from app.core import wakeups
from app.notifications.tasks import OUTBOX_CHANNEL
from tests.conftest import TEST_DB, running_smtp
from tests.factories import WARD_1_POINT
from tests.notifications import workers
from tests.notifications.workers import CountingMailbox, wait_until

WORKER_DB = f"{TEST_DB}_wake_window"
WORKER_PREFIX = "city311-wake-window"
BURST = 40
#: the longest a lone report's receipt may take to arrive (the sweep is an hour away)
PROMPT = 10


@pytest.fixture(scope="module")
def worker_smtp() -> Iterator[tuple[int, CountingMailbox]]:
    """A loopback SMTP server that takes each message at once (no drain outlasts the burst)."""
    mailbox = CountingMailbox(0.0)
    with running_smtp(mailbox) as port:
        yield port, mailbox


class Listener:
    """Counts the notifications committed on OUTBOX_CHANNEL, from a connection of its own."""

    def __init__(self, dsn: str) -> None:
        self.count = 0
        self.stop = threading.Event()
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.conn.execute(f"LISTEN {OUTBOX_CHANNEL}")
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            self.count += sum(1 for _ in self.conn.notifies(timeout=0.1))

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.conn.close()


def worker_listening(app: Flask) -> bool:
    """Tell whether the worker's wake-up listener is connected and LISTENing."""
    dsn = app.config["SQLALCHEMY_DATABASE_URI"].replace("+psycopg", "")
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE query ILIKE %s AND datname = %s",
            (f"LISTEN%{OUTBOX_CHANNEL}%", app.config["SQLALCHEMY_DATABASE_URI"].rsplit("/", 1)[1]),
        ).fetchone()
    return bool(row and row[0])


def post(client, n: int) -> None:
    resp = client.post(
        "/api/v1/requests",
        json={
            "service_code": "pothole",
            "description": f"Pothole {n}",
            "lat": WARD_1_POINT[0],
            "long": WARD_1_POINT[1],
            "email": f"resident{n}@example.org",
        },
    )
    assert resp.status_code == 201, resp.get_json()


def test_a_burst_of_posts_notifies_a_few_times_and_every_receipt_arrives(
    worker_app, worker_smtp, tmp_path, monkeypatch
):
    port, mailbox = worker_smtp
    monkeypatch.setattr(wakeups, "_windows", {})
    workers.forget_queues(worker_app)
    log_path = tmp_path / "worker.log"
    log = log_path.open("a")
    worker = workers.start_worker(worker_app, port, log, OUTBOX_SWEEP_SECONDS="3600")
    listener = Listener(worker_app.config["SQLALCHEMY_DATABASE_URI"].replace("+psycopg", ""))
    try:
        assert wait_until(lambda: worker_listening(worker_app), 30), log_path.read_text()
        client = worker_app.test_client()
        started = time.monotonic()
        for n in range(BURST):
            post(client, n)
        posted = time.monotonic() - started
        arrived = wait_until(lambda: len(mailbox.outbox_ids()) >= BURST, 10)
        took = time.monotonic() - started
        time.sleep(2 * wakeups.BURST_SECONDS)  # any notification still on its way
    finally:
        listener.close()
        worker.terminate()
        worker.wait(10)
        log.close()
    print(
        f"\n{BURST} POSTs in {posted:.2f} s sent {listener.count} notifications; "
        f"their receipts arrived within {took:.2f} s"
    )
    assert arrived, log_path.read_text()
    assert sorted(mailbox.outbox_ids().values()) == [1] * BURST, "each receipt exactly once"
    # about one per window of the burst, and not one per POST
    assert 1 <= listener.count <= posted / wakeups.NOTIFY_EVERY_SECONDS + 1
    assert listener.count < BURST


def test_a_report_after_the_drain_in_a_silent_window_is_still_delivered_at_once(
    worker_app, worker_smtp, tmp_path, monkeypatch
):
    """The case the trailing wake-up is for: the drain woken by the first report is over
    before the second, which did not notify, commits. Without the wake-up after the burst,
    the second receipt would wait for the sweep."""
    port, mailbox = worker_smtp
    monkeypatch.setattr(wakeups, "_windows", {})
    # this process's window, long enough for the first receipt to arrive inside it, and
    # short enough for the second report to commit before the worker's trailing wake-up
    monkeypatch.setattr(wakeups, "NOTIFY_EVERY_SECONDS", 0.15)
    workers.forget_queues(worker_app)
    log_path = tmp_path / "worker.log"
    log = log_path.open("a")
    worker = workers.start_worker(worker_app, port, log, OUTBOX_SWEEP_SECONDS="3600")
    client = worker_app.test_client()
    tried = 0
    try:
        assert wait_until(lambda: worker_listening(worker_app), 30), log_path.read_text()
        while tried < 5:
            tried += 1
            time.sleep(0.3)  # the window of the last pair is over: the first report notifies
            before = len(mailbox.outbox_ids())
            post(client, 1000 + 2 * tried)
            first_at = time.monotonic()
            if not wait_until(lambda b=before: len(mailbox.outbox_ids()) > b, 0.08):
                continue  # a slow moment: the second report might miss the window; again
            post(client, 1001 + 2 * tried)
            if time.monotonic() - first_at > 0.12:
                continue  # committed too late to be sure it fell in the window; again
            break
        else:
            pytest.fail("no first receipt came back within 80 ms in five tries")
        delivered = wait_until(lambda: len(mailbox.outbox_ids()) >= before + 2, PROMPT)
    finally:
        worker.terminate()
        worker.wait(10)
        log.close()
    assert delivered, "the report committed in the silent window waited for the sweep"

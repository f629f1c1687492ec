"""Wake-ups from PostgreSQL: a NOTIFY committed anywhere runs the worker's wake-up function."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from flask import Flask

from app.core import wakeups
from tests.conftest import TEST_DB_URL

CHANNEL = "city311_test_wakeup"
DSN = TEST_DB_URL.replace("postgresql+psycopg://", "postgresql://", 1)


class Calls:
    def __init__(self) -> None:
        self.count = 0
        self.event = threading.Event()

    def __call__(self) -> None:
        self.count += 1
        self.event.set()

    def wait(self, timeout: float = 5.0) -> bool:
        ok = self.event.wait(timeout)
        self.event.clear()
        return ok


@pytest.fixture
def listening(app: Flask) -> Iterator[Calls]:
    """Run the listener thread with one wake-up registered, then remove both."""
    calls = Calls()
    saved = app.extensions.get("city311_wakeups")
    app.extensions["city311_wakeups"] = []
    wakeups.register_wakeup(app, CHANNEL, calls)
    stop = threading.Event()
    thread = threading.Thread(target=wakeups.listen_until, args=(app, stop), daemon=True)
    thread.start()
    assert calls.wait(), "the listener runs every wake-up once when it connects"
    try:
        yield calls
    finally:
        stop.set()
        thread.join(timeout=5)
        if saved is None:
            app.extensions.pop("city311_wakeups")
        else:
            app.extensions["city311_wakeups"] = saved
    assert not thread.is_alive()


def notify_in_transaction(commit: bool) -> None:
    with psycopg.connect(DSN) as conn:
        conn.execute("SELECT pg_notify(%s, '')", (CHANNEL,))
        conn.commit() if commit else conn.rollback()


def listener_backends() -> list[int]:
    with psycopg.connect(DSN, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE query ILIKE %s AND pid <> pg_backend_pid()",
            (f"%LISTEN%{CHANNEL}%",),
        ).fetchall()
    return [pid for (pid,) in rows]


def test_a_committed_notify_wakes_and_a_rolled_back_one_does_not(listening):
    notify_in_transaction(commit=False)
    assert not listening.wait(1.5)
    notify_in_transaction(commit=True)
    assert listening.wait(), "the committed notification woke the listener"


def test_a_burst_of_notifications_costs_few_wake_ups(listening):
    with psycopg.connect(DSN, autocommit=True) as conn:
        for _ in range(200):
            conn.execute("SELECT pg_notify(%s, '')", (CHANNEL,))
    assert listening.wait()
    time.sleep(3 * wakeups.BURST_SECONDS)
    # the first at once, then one per burst window: a handful, not 200
    assert 1 <= listening.count - 1 <= 5


def test_the_listener_reconnects_when_its_backend_is_terminated(listening):
    pids = listener_backends()
    assert len(pids) == 1
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pids[0],))
    # back within its first reconnect delay, and catching up with one wake-up at once
    assert listening.wait(10), "the listener ran its wake-ups again after reconnecting"
    deadline = time.monotonic() + 5
    while not listener_backends() and time.monotonic() < deadline:
        time.sleep(0.1)
    notify_in_transaction(commit=True)
    assert listening.wait(), "notifications reach the new connection"

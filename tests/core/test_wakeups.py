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


def test_a_burst_ends_with_one_more_wake_up_for_the_commits_that_did_not_notify(listening):
    started = time.monotonic()
    notify_in_transaction(commit=True)
    assert listening.wait(), "the notification woke the listener at once"
    # no other notification comes: the trailing wake-up drains what committed silently
    assert listening.wait(), "a second wake-up followed the burst"
    assert time.monotonic() - started >= wakeups.BURST_SECONDS
    assert listening.count == 3  # the first at connecting, the notified one, the trailing one
    assert not listening.wait(3 * wakeups.BURST_SECONDS), "and nothing after it"


def test_a_process_notifies_a_channel_at_most_once_per_window(monkeypatch):
    channel = "city311_test_window"
    now = [1000.0]
    monkeypatch.setattr(wakeups.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(wakeups, "_windows", {})
    assert wakeups.claim(channel), "the first statement notifies"
    assert not wakeups.claim(channel), "the next ones of the window do not"
    assert wakeups.claim("city311_other_channel"), "each channel has its own window"
    now[0] += wakeups.NOTIFY_EVERY_SECONDS * 0.9
    assert not wakeups.claim(channel)
    now[0] += wakeups.NOTIFY_EVERY_SECONDS * 0.2
    assert wakeups.claim(channel), "a new window"
    # the trailing wake-up must come after a silent commit of the window has committed
    assert wakeups.BURST_SECONDS >= 3 * wakeups.NOTIFY_EVERY_SECONDS


def test_a_claim_that_sent_nothing_notifies_for_the_silent_ones(app, monkeypatch):
    """The statement that claimed the window failed: those that relied on it are announced."""
    monkeypatch.setattr(wakeups, "_windows", {})
    with app.app_context(), psycopg.connect(DSN, autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANNEL}")
        assert wakeups.claim(CHANNEL)
        wakeups.release(CHANNEL)  # nobody relied on it: nothing to send
        assert not list(listener.notifies(timeout=0.5))
        assert wakeups.claim(CHANNEL), "the window opened again"
        assert not wakeups.claim(CHANNEL)  # a statement skips its notification
        wakeups.release(CHANNEL)
        assert [n.channel for n in listener.notifies(timeout=2, stop_after=1)] == [CHANNEL]
        assert wakeups.claim(CHANNEL)

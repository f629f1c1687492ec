"""Wake the worker from PostgreSQL: NOTIFY rides on the commit that made the work.

A web process that owes work (an email) writes a row and calls `pg_notify` in the same
statement. PostgreSQL delivers the notification when, and only when, that transaction
commits, so the web process makes no call to Redis, and no extra round trip, to get the
work started. Each worker listens on its own connection and runs the feature's wake-up
function (which enqueues the job) when a notification arrives. A notification lost while
no worker listens costs a delay, not the work: the periodic sweeps still find the rows.

PostgreSQL serialises the commits of the transactions that notify: each takes one lock for
the whole database when it commits, and holds it while the commit is flushed to disk (the
wait shows as `Lock: object` in pg_stat_activity). From 16 connections, PostgreSQL took
1,470-1,520 intake statements a second when each notified, 2,030-2,080 when each connection
notified once per 50 ms (bench/intake_db.py). So a statement that commits itself (intake's
POST) notifies at most once per NOTIFY_EVERY_SECONDS per process (`claim`, `release`), and
the listener runs each wake-up once more BURST_SECONDS after the last notification of a
burst: the reports committed in between without a notification are drained by then.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from flask import Flask
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db

log = logging.getLogger(__name__)

#: the longest wait between two attempts to reach PostgreSQL again, in seconds
MAX_RECONNECT_DELAY = 30.0
#: how often the listener looks up from its wait to see whether it must stop, in seconds
_POLL_SECONDS = 1.0
#: notifications within this long of a wake-up are answered by one more wake-up at its end,
#: and the last wake-up of a burst by one more this long after it
BURST_SECONDS = 0.2
#: a process's self-committing statements notify a channel at most once in this long. The
#: rest of BURST_SECONDS is the time a statement that skipped its NOTIFY may take to commit
#: and still be drained by the trailing wake-up; one that takes longer waits for the sweep.
NOTIFY_EVERY_SECONDS = 0.05


@dataclass
class _Window:
    """A channel's notifications from this process: when the last was claimed, and how many
    statements have skipped theirs since."""

    claimed_at: float = -NOTIFY_EVERY_SECONDS
    silent: int = 0


_windows: dict[str, _Window] = {}
_windows_lock = threading.Lock()


def claim(channel: str) -> bool:
    """Tell whether a statement that commits itself must notify `channel`.

    True for the first statement of each NOTIFY_EVERY_SECONDS, which then owes the
    notification (see `release`); False for the others of the window, whose rows the
    worker's wake-up after that notification drains.
    """
    now = time.monotonic()
    with _windows_lock:
        window = _windows.setdefault(channel, _Window())
        if now - window.claimed_at >= NOTIFY_EVERY_SECONDS:
            window.claimed_at, window.silent = now, 0
            return True
        window.silent += 1
        return False


def release(channel: str) -> None:
    """Say that the statement that claimed `channel` sent no notification after all.

    It failed, or wrote nothing. The window opens again for the next statement, and if a
    statement skipped its notification meanwhile, this sends one, in a transaction of its
    own, so that the worker still comes for that statement's rows.
    """
    with _windows_lock:
        window = _windows.setdefault(channel, _Window())
        owed, window.claimed_at, window.silent = window.silent > 0, -NOTIFY_EVERY_SECONDS, 0
    if not owed:
        return
    try:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": channel})
    except SQLAlchemyError as exc:  # the caller's own error is the one to report
        log.warning("could not wake the worker on %s (%s); the sweep will", channel, exc)


@dataclass(frozen=True)
class _Wakeup:
    channel: str
    func: Callable[[], Any]


def register_wakeup(app: Flask, channel: str, func: Callable[[], Any]) -> None:
    """Have each worker call `func` (in an app context) on a NOTIFY on `channel`."""
    app.extensions.setdefault("city311_wakeups", []).append(_Wakeup(channel, func))


def wakeups(app: Flask) -> list[_Wakeup]:
    return list(app.extensions.get("city311_wakeups", []))


def _conninfo(app: Flask) -> str:
    with app.app_context():
        url = db.engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def listen_until(app: Flask, stop: threading.Event) -> None:
    """LISTEN on every registered channel and run its wake-up, until `stop` is set.

    A dropped connection (PostgreSQL restarted, the backend terminated) is opened again
    with a growing delay; the first thing after each (re)connection is one run of every
    wake-up, since notifications sent while nobody listened are gone.
    """
    entries = wakeups(app)
    if not entries:
        return
    by_channel = {entry.channel: entry for entry in entries}
    delay = 1.0
    while not stop.is_set():
        try:
            with psycopg.connect(_conninfo(app), autocommit=True) as conn:
                for channel in by_channel:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                delay = 1.0
                for entry in entries:
                    _run(app, entry)
                while not stop.is_set():
                    woken = {n.channel for n in conn.notifies(timeout=_POLL_SECONDS, stop_after=1)}
                    # The first notification wakes at once; the rest of a burst (a thousand
                    # commits a second) is answered by one wake-up per BURST_SECONDS, given
                    # after it, when every row it announces has been committed. A last one
                    # BURST_SECONDS after the burst drains the rows whose commits did not
                    # notify (claim).
                    burst: set[str] = set()
                    while woken and not stop.is_set():
                        burst |= woken
                        for channel in woken & by_channel.keys():
                            _run(app, by_channel[channel])
                        woken = {n.channel for n in conn.notifies(timeout=BURST_SECONDS)}
                    for channel in burst & by_channel.keys():
                        if not stop.is_set():
                            _run(app, by_channel[channel])
        except psycopg.Error as exc:
            log.warning(
                "wake-up listener: PostgreSQL unreachable (%s); again in %.0f s", exc, delay
            )
            stop.wait(delay)
            delay = min(delay * 2, MAX_RECONNECT_DELAY)


def _run(app: Flask, entry: _Wakeup) -> None:
    with app.app_context():
        try:
            entry.func()
        except Exception:  # a failed wake-up must not stop the listening; the sweep backs it
            log.exception("wake-up for %s failed", entry.channel)
        finally:
            db.session.remove()

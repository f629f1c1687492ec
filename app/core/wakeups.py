"""Wake the worker from PostgreSQL: NOTIFY rides on the commit that made the work.

A web process that owes work (an email) writes a row and calls `pg_notify` in the same
statement. PostgreSQL delivers the notification when, and only when, that transaction
commits, so the web process makes no call to Redis, and no extra round trip, to get the
work started. Each worker listens on its own connection and runs the feature's wake-up
function (which enqueues the job) when a notification arrives. A notification lost while
no worker listens costs a delay, not the work: the periodic sweeps still find the rows.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from flask import Flask
from psycopg import sql

from app.extensions import db

log = logging.getLogger(__name__)

#: the longest wait between two attempts to reach PostgreSQL again, in seconds
MAX_RECONNECT_DELAY = 30.0
#: how often the listener looks up from its wait to see whether it must stop, in seconds
_POLL_SECONDS = 1.0
#: notifications within this long of a wake-up are answered by one more wake-up at its end
BURST_SECONDS = 0.2


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
                    # after it, when every row it announces has been committed.
                    while woken and not stop.is_set():
                        for channel in woken & by_channel.keys():
                            _run(app, by_channel[channel])
                        woken = {n.channel for n in conn.notifies(timeout=BURST_SECONDS)}
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

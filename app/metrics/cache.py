"""Rollup sums already read, kept in the process until the rollups next change.

The rollup rows only change when `refresh` or `rebuild` runs (each minute, by the worker),
and each run stamps metrics_rollup_state. A read keyed by that stamp and by its own query
gets the same answer until the next run, so the panels a dashboard reloads, and every
manager looking at the same range, are served from memory instead of re-merging hundreds
of thousands of histogram cells. Reads that touch raw requests are never cached.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import text

from app.extensions import db

T = TypeVar("T")

#: results kept per process: a dashboard's panels over a few ranges and filters. The
#: largest, a year by service type, holds ~25k histogram cells (~2 MB); most hold far fewer
MAX_ENTRIES = 64

_lock = threading.Lock()
_entries: OrderedDict[Hashable, Any] = OrderedDict()


def stamp() -> Hashable | None:
    """Return what identifies the rollups' current contents (None: never built)."""
    row = db.session.execute(
        text("SELECT refreshed_at, watermark FROM metrics_rollup_state WHERE id = 1")
    ).one_or_none()
    if row is None:
        return None
    return (current_app.config["SQLALCHEMY_DATABASE_URI"], row.refreshed_at, row.watermark)


#: 'read the stamp now' (None is a stamp: the rollups were never built)
UNSET: Any = object()


def cached(key: Hashable, compute: Callable[[], T], current: Hashable | None = UNSET) -> T:
    """Return compute()'s result for `key` under the rollups' current stamp, computing it
    once per stamp; callers must not change what they get back. A caller making several
    reads passes the stamp it read once (`current`), saving a round trip per read."""
    if current is UNSET:
        current = stamp()
    if current is None:
        return compute()
    full = (current, key)
    with _lock:
        if full in _entries:
            _entries.move_to_end(full)
            return _entries[full]
    value = compute()
    with _lock:
        _entries[full] = value
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value


def clear() -> None:
    with _lock:
        _entries.clear()

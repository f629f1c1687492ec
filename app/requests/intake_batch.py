"""Store the requests a web process receives at once in one intake statement.

Most of what PostgreSQL spends on an intake is the statement's, not the row's: on the
2-core VM, 0.45-0.7 ms of its CPU a request one per statement, 0.24-0.28 ms four per
statement (bench/README.md, "intake_db.py"). So the POSTs of a process's threads that
arrive while its previous intake statement runs wait for it, and are then stored together
by one of them (the leader), in one autocommitted statement, on a connection the process
keeps for them (direct.KeptConnection): a combining queue. A thread
whose request is alone goes at once, as before.

Each request keeps its own answer: its row, or none (outside the city, or its type
changed), which the caller handles as it always did. Should the shared statement fail (a
value PostgreSQL refuses, a dropped connection), nothing of it is stored, and each request
of the batch is tried again alone, in its own thread: one bad request fails only itself.
Only statements that would commit by themselves are grouped (direct.autocommit_engine):
inside a transaction, the request waits on nothing.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import TextClause
from sqlalchemy.engine import Engine

from app.core import direct

#: the most requests one statement stores
MAX_BATCH = 16

Row = tuple[Any, ...]


class _Item:
    """A request waiting to be stored: its row of `:rows`, then its answer."""

    __slots__ = ("answer", "done", "failed", "lead", "row", "wake")

    def __init__(self, row: dict[str, Any], wake: bool) -> None:
        self.row, self.wake = row, wake
        self.answer: Row | None = None
        #: the shared statement failed: store this request alone
        self.failed = False
        #: this thread is to store the next batch
        self.lead = False
        self.done = threading.Event()


class _Queue:
    """The requests of one engine waiting for a statement, whether one is running, and the
    connection the statements run on, one after another."""

    def __init__(self, engine: Engine) -> None:
        self.lock = threading.Lock()
        self.waiting: list[_Item] = []
        self.running = False
        self.connection = direct.KeptConnection(engine)


_queues: dict[Engine, _Queue] = {}
_queues_lock = threading.Lock()


def _queue(engine: Engine) -> _Queue:
    with _queues_lock:
        queue = _queues.get(engine)
        if queue is None:  # made once: it keeps a connection and listens to the engine
            queue = _queues[engine] = _Queue(engine)
        return queue


def store(
    row: dict[str, Any],
    statement: Callable[[bool], TextClause],
    params: dict[str, Any],
    *,
    alone: bool,
    wake: bool,
) -> Row | None:
    """Store one request; return its answer row (without `ord`), or None.

    `row` is its row of `:rows`; `statement(wake)` the intake statement; `params` the
    statement's other parameters, the same for every request of the app.
    """
    engine = direct.autocommit_engine(alone)
    if engine is None:
        return _one(row, statement(wake), params, alone)
    queue = _queue(engine)
    item = _Item(row, wake)
    with queue.lock:
        queue.waiting.append(item)
        leads = not queue.running
        queue.running = True
    if not leads:
        item.done.wait()
    if leads or item.lead:
        # this thread stores the next batch, its own request first in it (a leader's is
        # at the head of the queue: no batch is waiting while none is running)
        with queue.lock:
            batch, queue.waiting = queue.waiting[:MAX_BATCH], queue.waiting[MAX_BATCH:]
        try:
            _run(queue.connection, batch, statement, params)
        finally:
            with queue.lock:
                if queue.waiting:  # arrived meanwhile: their first thread stores them
                    queue.waiting[0].lead = True
                    queue.waiting[0].done.set()
                else:
                    queue.running = False
    return _one(row, statement(wake), params, alone) if item.failed else item.answer


def _run(
    connection: direct.KeptConnection,
    batch: list[_Item],
    statement: Callable[[bool], TextClause],
    params: dict[str, Any],
) -> None:
    """Store `batch` in one statement and hand each request its answer."""
    for ord_, item in enumerate(batch):
        item.row["ord"] = ord_
    try:
        rows = connection.fetch_rows(
            statement(any(item.wake for item in batch)),
            {**params, "rows": json.dumps([item.row for item in batch], separators=(",", ":"))},
        )
    except Exception:  # a driver's error, or a value JSON cannot carry
        if len(batch) == 1:  # the leader's own request: its error is its own
            raise
        for item in batch:
            item.failed = True
    else:
        answers = {row[0]: row[1:] for row in rows}
        for ord_, item in enumerate(batch):
            item.answer = answers.get(ord_)
    finally:
        for item in batch:
            item.lead = False
            item.done.set()


def _one(
    row: dict[str, Any], statement: TextClause, params: dict[str, Any], alone: bool
) -> Row | None:
    """Store one request by itself, in the request's transaction or autocommitted."""
    answer = direct.fetch_row(
        statement,
        {**params, "rows": json.dumps([{**row, "ord": 0}], separators=(",", ":"))},
        alone=alone,
    )
    return None if answer is None else answer[1:]

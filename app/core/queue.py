"""rq wiring: Redis connection, named queues, enqueue-after-commit, and what features register
for the worker (app/core/worker.py) to run.

PostgreSQL is the record and Redis may lose jobs, so every job is idempotent and every
feature that owes work (an email, a thumbnail) registers a periodic sweep that re-enqueues
what the database says is still undone. Jobs that run on the clock (the daily overdue
digest) are enqueued by rq's own CronScheduler, which each worker runs beside itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from flask_sqlalchemy.session import Session as FlaskSession
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.job import Job
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from app.extensions import db

log = logging.getLogger(__name__)

QUEUE_NAMES = ("notifications", "media", "default")
#: how long rq keeps a finished or failed job of ours (as enqueue_now does)
RESULT_TTL = 300
FAILURE_TTL = 7 * 24 * 3600


@dataclass
class Periodic:
    func: Callable[[], Any]
    every: float
    last_run: float = 0.0


@dataclass(frozen=True)
class _CronEntry:
    func: Callable[[], Any]
    cron: str
    queue: str


class AppJob(Job):
    """Run each job inside the application context of the worker's app."""

    flask_app: Flask | None = None

    def perform(self) -> Any:
        assert AppJob.flask_app is not None, "the worker did not set AppJob.flask_app"
        with AppJob.flask_app.app_context():
            try:
                return super().perform()
            finally:
                db.session.remove()


class QueueState:
    """Per-app Redis connection and queues, kept in app.extensions['rq']."""

    def __init__(self, app: Flask) -> None:
        # a short timeout so that a dead Redis fails the after-commit push fast
        self.redis = Redis.from_url(
            app.config["REDIS_URL"], socket_connect_timeout=1, socket_timeout=5
        )
        prefix = app.config["RQ_QUEUE_PREFIX"]
        self.queues = {
            name: Queue(f"{prefix}-{name}", connection=self.redis, job_class=AppJob)
            for name in QUEUE_NAMES
        }
        self.periodic: list[Periodic] = []
        self.cron: list[_CronEntry] = []


def init_app(app: Flask) -> None:
    """Create the Redis connection and queues and hook enqueueing to session commits."""
    app.extensions["rq"] = QueueState(app)
    # On the class Flask-SQLAlchemy makes every session of (each sessionmaker derives its
    # own subclass), so that a session made apart from db.session, as the tests make one
    # bound to a connection, keeps its after-commit calls too.
    _listen(FlaskSession)


def state() -> QueueState:
    return current_app.extensions["rq"]


def get_queue(name: str = "default") -> Queue:
    """Return the named rq queue of the current app."""
    return state().queues[name]


def enqueue_after_commit(
    func: Callable[..., Any], *args: Any, queue: str = "default", job_id: str | None = None
) -> None:
    """Enqueue a job once the current transaction commits; forget it on rollback.

    Enqueueing before the commit lets a fast worker look for rows that are not yet visible.
    """
    call_after_commit(enqueue_now, func, *args, queue=queue, job_id=job_id)


def call_after_commit(func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Call `func` once the current transaction commits; forget it on rollback.

    The call belongs to the innermost transaction: rolling back a savepoint forgets only
    what was queued inside it. It must not raise for an unreachable Redis: the work it
    starts is recorded in the database, and a periodic sweep picks it up.
    """
    session = db.session()
    # Begin the transaction now if nothing has yet, so that there is one to tie the call to.
    session.connection()
    owner = session.get_nested_transaction() or session.get_transaction()
    assert owner is not None
    _pending(session).setdefault(owner, []).append((func, args, kwargs))


_Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


def _pending(session: Session) -> dict[SessionTransaction, list[_Call]]:
    return session.info.setdefault("after_commit_calls", {})


def _on_commit(session: Session) -> None:
    # Fired for a released savepoint too: its calls then pass to the enclosing transaction.
    committed = session.get_nested_transaction() or session.get_transaction()
    if committed is None:
        return
    calls = _pending(session).pop(committed, None)
    if not calls:
        return
    if committed.parent is not None:
        _pending(session).setdefault(_owner_above(committed), []).extend(calls)
        return
    for func, args, kwargs in calls:
        try:
            func(*args, **kwargs)
        except Exception:  # the commit has happened; a failed follow-up must not undo it
            log.exception("after-commit call %s failed", getattr(func, "__name__", func))


def _owner_above(transaction: SessionTransaction) -> SessionTransaction:
    """Return the savepoint or root transaction that encloses `transaction`."""
    parent = transaction.parent
    assert parent is not None
    while parent.parent is not None and not parent.nested:
        parent = parent.parent
    return parent


def _on_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # A committed transaction handed its calls on in _on_commit; what is left was rolled
    # back (or closed unfinished), and is forgotten.
    pending = session.info.get("after_commit_calls")
    if pending:
        pending.pop(transaction, None)


_LISTENERS: tuple[tuple[str, Callable[..., None]], ...] = (
    ("after_commit", _on_commit),
    ("after_transaction_end", _on_transaction_end),
)


def _listen(session_class: type[Session]) -> None:
    """Hook the after-commit calls to the sessions of `session_class` (once)."""
    for name, listener in _LISTENERS:
        if not event.contains(session_class, name, listener):
            event.listen(session_class, name, listener)


def redis_key(name: str) -> str:
    """Return a Redis key in this install's namespace (RQ_QUEUE_PREFIX)."""
    return f"{current_app.config['RQ_QUEUE_PREFIX']}:{name}"


def enqueue_now(
    func: Callable[..., Any], *args: Any, queue: str = "default", job_id: str | None = None
) -> bool:
    """Push a job to Redis; return False (and log) when Redis cannot be reached."""
    try:
        get_queue(queue).enqueue(
            func, *args, job_id=job_id, result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL
        )
        return True
    except RedisError as exc:
        # The database still says the work is owed; the worker's sweep will push it again.
        log.warning("could not enqueue %s%r on %s: %s", func.__name__, args, queue, exc)
        return False


def register_periodic(app: Flask, func: Callable[[], Any], every_seconds: float) -> None:
    """Run `func` in the worker every `every_seconds` (in an app context)."""
    app.extensions["rq"].periodic.append(Periodic(func, every_seconds))


def register_cron(app: Flask, func: Callable[[], Any], cron: str, queue: str = "default") -> None:
    """Have the worker's CronScheduler enqueue `func` on `queue` at each `cron` time.

    The cron fields match the worker process's local time, not the city's: a job that must
    follow the city's clock should run often and decide for itself, as the digest does.
    """
    app.extensions["rq"].cron.append(_CronEntry(func, cron, queue))

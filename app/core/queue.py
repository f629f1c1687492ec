"""rq wiring: Redis connection, named queues, enqueue-after-commit, the worker and its sweeps.

PostgreSQL is the record and Redis may lose jobs, so every job is idempotent and every
feature that owes work (an email, a thumbnail) registers a periodic sweep that re-enqueues
what the database says is still undone. Jobs that run on the clock (the daily overdue
digest) are enqueued by rq's own CronScheduler, which each worker runs beside itself.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from flask_sqlalchemy.session import Session as FlaskSession
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from rq.cron import CronScheduler
from rq.exceptions import StopRequested
from rq.job import Job
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from app.core import wakeups
from app.extensions import db

log = logging.getLogger(__name__)

QUEUE_NAMES = ("notifications", "media", "default")
#: how long rq keeps a finished or failed job of ours (as enqueue_now does)
RESULT_TTL = 300
FAILURE_TTL = 7 * 24 * 3600


@dataclass
class _Periodic:
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
        self.periodic: list[_Periodic] = []
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
    app.extensions["rq"].periodic.append(_Periodic(func, every_seconds))


def run_periodic_once(app: Flask) -> None:
    """Run every registered periodic sweep now (the worker does this on a timer)."""
    for item in app.extensions["rq"].periodic:
        _run_one(app, item)


def _run_one(app: Flask, item: _Periodic) -> None:
    with app.app_context():
        try:
            item.func()
        except Exception:  # a sweep must never kill the worker; it runs again next tick
            log.exception("periodic task %s failed", getattr(item.func, "__name__", item.func))
            db.session.rollback()
        finally:
            db.session.remove()
    item.last_run = time.monotonic()


def _sweeper(app: Flask, stop: threading.Event) -> None:
    while not stop.is_set():
        now = time.monotonic()
        for item in app.extensions["rq"].periodic:
            if now - item.last_run >= item.every:
                _run_one(app, item)
        stop.wait(1.0)


def register_cron(app: Flask, func: Callable[[], Any], cron: str, queue: str = "default") -> None:
    """Have the worker's CronScheduler enqueue `func` on `queue` at each `cron` time.

    The cron fields match the worker process's local time, not the city's: a job that must
    follow the city's clock should run often and decide for itself, as the digest does.
    """
    app.extensions["rq"].cron.append(_CronEntry(func, cron, queue))


class WorkerCron(CronScheduler):
    """rq's CronScheduler, run in a thread of the worker's process until told to stop.

    rq decides when each job is due, enqueues it and keeps the scheduler registry and job
    history in Redis; only start() is replaced, since it installs signal handlers (which
    only the main thread may do: the rq worker there handles SIGTERM) and sleeps in a way
    nothing can interrupt.
    """

    def run_until(self, stop: threading.Event) -> None:
        """Enqueue each job when it is due, until `stop` is set."""
        self.register_birth()
        try:
            while not stop.is_set():
                try:
                    if self.enqueue_jobs():
                        self.save()
                    self.heartbeat()
                except RedisError as exc:  # a job not enqueued now is enqueued next tick
                    log.warning("cron scheduler: Redis is unreachable (%s)", exc)
                stop.wait(max(self.calculate_sleep_interval(), 1.0))
        finally:
            try:
                self.register_death()
            except Exception:  # the registry drops an entry whose heartbeats stop anyway
                log.warning("cron scheduler %s could not unregister", self.name)


def cron_scheduler(app: Flask) -> WorkerCron:
    """Return a CronScheduler holding every job registered with register_cron."""
    st: QueueState = app.extensions["rq"]
    scheduler = WorkerCron(connection=st.redis)
    for entry in st.cron:
        scheduler.register(
            entry.func,
            queue_name=st.queues[entry.queue].name,
            cron=entry.cron,
            result_ttl=RESULT_TTL,
            failure_ttl=FAILURE_TTL,
        )
    return scheduler


def run_worker(
    app: Flask, *, burst: bool = False, with_sweeper: bool = True, with_cron: bool = True
) -> None:
    """Run an rq worker on all queues, with the sweeps, the cron scheduler and the wake-ups.

    Each worker runs a scheduler, so that the clock keeps ticking while any one of them
    is up; several then enqueue the same job, which is why those jobs are idempotent. A
    burst worker runs none: it stops as soon as the queues are empty.
    """
    AppJob.flask_app = app
    st: QueueState = app.extensions["rq"]
    stop = threading.Event()
    threads: list[threading.Thread] = []
    if not burst and threading.current_thread() is threading.main_thread():
        # Until rq's worker installs its own handler, SIGTERM would end the process on the
        # spot, leaving the cron scheduler registered; this one lets the finally below run.
        signal.signal(signal.SIGTERM, _stop_requested)
    try:
        _start_and_work(
            app, st, stop, threads, burst=burst, with_sweeper=with_sweeper, with_cron=with_cron
        )
    except StopRequested:
        pass
    finally:
        stop.set()
        for thread in threads:
            if thread.ident is not None:  # started
                thread.join(timeout=5)


def _stop_requested(signum: int, frame: Any) -> None:
    raise StopRequested()


def _start_and_work(
    app: Flask,
    st: QueueState,
    stop: threading.Event,
    threads: list[threading.Thread],
    *,
    burst: bool,
    with_sweeper: bool,
    with_cron: bool,
) -> None:
    """Start the worker's threads (appending each to `threads`), then work until stopped."""
    if with_sweeper:
        run_periodic_once(app)  # catch up at once with whatever was left undone while down
        threads.append(
            threading.Thread(target=_sweeper, args=(app, stop), daemon=True, name="sweeper")
        )
    if not burst and wakeups.wakeups(app):
        threads.append(
            threading.Thread(
                target=wakeups.listen_until, args=(app, stop), daemon=True, name="wakeups"
            )
        )
    if with_cron and not burst and st.cron:
        scheduler = cron_scheduler(app)
        threads.append(
            threading.Thread(target=scheduler.run_until, args=(stop,), daemon=True, name="cron")
        )
    for thread in threads:
        thread.start()
    _work_until_stopped(app, burst=burst)


class _Worker(SimpleWorker):
    """An rq SimpleWorker that remembers whether it was told to stop (SIGTERM, SIGINT)."""

    told_to_stop = False

    def request_stop(self, signum: Any, frame: Any) -> None:
        self.told_to_stop = True
        super().request_stop(signum, frame)


#: the longest wait between two attempts to reach Redis again, in seconds
MAX_RECONNECT_DELAY = 30.0


def _work_until_stopped(app: Flask, *, burst: bool) -> None:
    """Run rq workers one after another until told to stop; wait and retry when Redis drops.

    rq's work loop returns (it logs "unhandled exception, quitting") when Redis drops while a
    job runs: the job's own writes are in PostgreSQL and its outbox row is swept again, so
    nothing is lost by starting a fresh worker once Redis answers.
    """
    st: QueueState = app.extensions["rq"]
    delay = 1.0
    while True:
        # SimpleWorker runs jobs in this process: no fork, so the DB pool stays sound, and
        # jobs are short I/O-bound sends and resizes.
        # The worker blocks on Redis for up to its dequeue timeout (minutes); the web's short
        # socket timeout would cut every idle wait, and rq would then back off for a minute
        # or more before looking at the queues again. So it reads on its own connection.
        listener = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=5)
        queues = [Queue(q.name, connection=listener, job_class=AppJob) for q in st.queues.values()]
        worker: _Worker | None = None
        started = time.monotonic()
        try:
            worker = _Worker(queues, connection=listener, job_class=AppJob)  # names itself
            worker.work(burst=burst, with_scheduler=False)
        except RedisError as exc:  # naming, registering or unregistering the worker failed
            log.warning("worker: Redis is unreachable (%s)", exc)
        except StopRequested:
            return
        finally:
            listener.close()
        if burst or (worker is not None and worker.told_to_stop):
            return
        if time.monotonic() - started > 60:
            delay = 1.0  # it ran a while: this is a new outage, start the backoff afresh
        log.warning("worker stopped without being told to (Redis gone?); again in %.0f s", delay)
        try:
            time.sleep(delay)
        except StopRequested:  # rq's SIGTERM handler, still installed, raises it
            return
        delay = min(delay * 2, MAX_RECONNECT_DELAY)

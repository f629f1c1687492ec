"""The worker process: an rq worker on every queue, with the periodic sweeps, rq's cron
scheduler and the PostgreSQL wake-ups in threads beside it (`flask worker`).

What it runs is registered by the features through app/core/queue.py.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Any

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from rq.cron import CronScheduler
from rq.exceptions import StopRequested
from rq.worker import DequeueStrategy

from app.core import wakeups
from app.core.queue import FAILURE_TTL, RESULT_TTL, AppJob, Periodic, QueueState
from app.extensions import db

log = logging.getLogger(__name__)


def run_periodic_once(app: Flask) -> None:
    """Run every registered periodic sweep now (the worker does this on a timer)."""
    for item in app.extensions["rq"].periodic:
        _run_one(app, item)


def _run_one(app: Flask, item: Periodic) -> None:
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
            # In turn, not in the queues' order: under a steady flow of reports a drain of
            # the outbox was always waiting when the last one ended, so the rollups' refresh
            # and photo jobs never ran until the flow stopped (bench/README.md, "soak.py").
            worker.work(
                burst=burst, with_scheduler=False, dequeue_strategy=DequeueStrategy.ROUND_ROBIN
            )
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

"""Jobs of the notifications queue: drain the outbox, deliver one row, sweep for what is owed.

PostgreSQL is the record of what was sent; Redis may lose a job at any time. Intake only
raises a wake-up flag in Redis (one cheap SET NX per committed notice); the first wake-up
of a burst enqueues one drain job, which delivers every due row, each in its own
transaction. The periodic sweep wakes a drain whenever due rows wait and none is on its way,
so a lost job or flag costs a delay, never a message. Delivery is at least once: a crash
between the SMTP reply and the commit sends the message again, under the same Message-ID.
"""

from __future__ import annotations

import logging
import smtplib
import time
from datetime import datetime, timedelta

from flask import current_app
from redis.exceptions import RedisError
from rq.job import Job
from sqlalchemy import select

from app.core.clock import utcnow
from app.core.queue import enqueue_now, redis_key, state
from app.extensions import db
from app.notifications import mail
from app.notifications.models import Outbox

log = logging.getLogger(__name__)

#: the longest wait between two attempts, however many have failed
MAX_BACKOFF = timedelta(hours=6)
#: errors that say "not now": the server is down, busy or slow
TRANSIENT_ERRORS = (smtplib.SMTPException, OSError, TimeoutError)
#: rq job states in which a delivery is already on its way
_LIVE_JOB_STATES = {"queued", "started", "scheduled", "deferred"}
#: a wake-up flag outlives a lost drain job by at most this long
WAKE_TTL_SECONDS = 60
#: a drain hands over to a fresh job after this long, so other jobs get their turn
DRAIN_SECONDS = 60.0
DRAIN_BATCH = 100


def _wake_key() -> str:
    return redis_key("outbox:wake")


def wake() -> bool:
    """Make sure a drain job is on its way; return whether this call enqueued one.

    Called after each commit that owes a notice. Only the first call of a burst pays for an
    rq enqueue; the others find the flag up and return at once. Redis being down is fine:
    the row waits in PostgreSQL for the sweep.
    """
    try:
        if not state().redis.set(_wake_key(), "1", nx=True, ex=WAKE_TTL_SECONDS):
            return False
    except RedisError as exc:
        log.warning("outbox wake-up: Redis is unreachable (%s); the sweep will deliver", exc)
        return False
    return enqueue_now(drain, queue="notifications")


def due_ids(limit: int) -> list[int]:
    """Return the ids of pending rows whose time has come, oldest first."""
    ids = db.session.scalars(
        select(Outbox.id)
        .where(Outbox.status == "pending", Outbox.next_attempt_at <= utcnow())
        .order_by(Outbox.next_attempt_at, Outbox.id)
        .limit(limit)
    ).all()
    db.session.rollback()  # end the read; each delivery has a transaction of its own
    return list(ids)


def drain() -> int:
    """Deliver every due outbox row; return how many were sent."""
    started = time.monotonic()
    sent = 0
    # Lower the flag before reading: a notice committed from now on raises it again and
    # wakes another drain, and one committed before is visible to the read below.
    state().redis.delete(_wake_key())
    while True:
        ids = due_ids(DRAIN_BATCH)
        if not ids:
            return sent
        progress = False
        for outbox_id in ids:
            result = deliver(outbox_id)
            sent += result == "sent"
            progress = progress or result != "skipped"
        if not progress:
            return sent  # all held by other workers, or not due any more
        if time.monotonic() - started > DRAIN_SECONDS:
            wake()
            return sent


def retry_delay(attempts: int) -> timedelta:
    """Return how long to wait after the n-th failed attempt (doubling, capped)."""
    base = float(current_app.config["OUTBOX_BACKOFF_SECONDS"])
    exponent = max(attempts - 1, 0)
    if exponent > 30:  # far past the cap; avoid float overflow on absurd counts
        return MAX_BACKOFF
    return min(timedelta(seconds=base * 2**exponent), MAX_BACKOFF)


def _lock(outbox_id: int) -> Outbox | None:
    # SKIP LOCKED: if another worker holds the row it is sending it; do not wait, do not send.
    return db.session.scalar(
        select(Outbox).where(Outbox.id == outbox_id).with_for_update(skip_locked=True)
    )


def deliver(outbox_id: int) -> str:
    """Send the email an outbox row owes, once; return what happened.

    The result is one of "sent", "retry" (a failure; the sweeper tries again later),
    "failed" (given up), or "skipped" (already sent or failed, not due yet, gone, or
    being sent by another worker).
    """
    row = _lock(outbox_id)
    if row is None or row.status != "pending":
        db.session.rollback()
        return "skipped"
    now = utcnow()
    if row.next_attempt_at > now:
        db.session.rollback()
        return "skipped"
    try:
        where = mail.send(mail.build_message(row))
    except mail.PermanentFailure as exc:
        _record_failure(row, exc, now, give_up=True)
        db.session.commit()
        log.warning("outbox %s refused for good: %s", outbox_id, exc)
        return "failed"
    except TRANSIENT_ERRORS as exc:
        _record_failure(row, exc, now)
        status, attempts, next_at = row.status, row.attempts, row.next_attempt_at
        db.session.commit()
        _log_failure(outbox_id, status, attempts, next_at, exc)
        return "retry" if status == "pending" else "failed"
    except Exception as exc:
        # A bug (a template error, bad data): count the attempt so that it ends in "failed"
        # instead of being retried for ever, and let rq record the traceback.
        db.session.rollback()
        row = _lock(outbox_id)
        if row is not None and row.status == "pending":
            _record_failure(row, exc, now)
            db.session.commit()
        raise
    row.status = "sent"
    row.sent_at = now
    row.attempts += 1
    row.last_error = ""
    db.session.commit()
    log.info("outbox %s (%s) sent via %s", outbox_id, row.event, where)
    return "sent"


def _record_failure(row: Outbox, exc: BaseException, now: datetime, give_up: bool = False) -> None:
    row.attempts += 1
    row.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
    if give_up or row.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        row.status = "failed"
    else:
        row.next_attempt_at = now + retry_delay(row.attempts)


def _log_failure(
    outbox_id: int, status: str, attempts: int, next_at: datetime, exc: BaseException
) -> None:
    if status == "failed":
        log.error("outbox %s failed %s times, giving up: %s", outbox_id, attempts, exc)
    else:
        log.warning(
            "outbox %s attempt %s failed (%s); next try at %s", outbox_id, attempts, exc, next_at
        )


def sweep_outbox(limit: int = 1) -> int:
    """Wake a drain when due rows wait and no drain is on its way; return 1 if it did.

    This is what makes a lost job, a lost flag or an outage of Redis cost a delay only.
    """
    if not due_ids(limit):
        return 0
    try:
        live = _live_drain()
    except RedisError as exc:
        log.warning("outbox sweep: Redis is unreachable (%s); will try again", exc)
        return 0
    if live:
        return 0
    state().redis.delete(_wake_key())  # a flag whose job was lost would block every wake()
    if wake():
        log.info("outbox sweep: undelivered notices found, drain enqueued")
        return 1
    return 0


def _live_drain() -> bool:
    """Tell whether a drain job is queued or running."""
    redis = state().redis
    queue = state().queues["notifications"]
    job_ids = queue.job_ids + queue.started_job_registry.get_job_ids()
    if not job_ids:
        return False
    with redis.pipeline(transaction=False) as pipe:
        for job_id in job_ids:
            pipe.hget(Job.key_for(job_id), "description")
            pipe.hget(Job.key_for(job_id), "status")
        values = pipe.execute()
    for description, status in zip(values[::2], values[1::2], strict=True):
        if (
            description is not None
            and description.decode().startswith(f"{drain.__module__}.drain(")
            and status is not None
            and status.decode() in _LIVE_JOB_STATES
        ):
            return True
    return False

"""Jobs of the notifications queue: deliver one outbox row, and sweep for what is still owed.

PostgreSQL is the record of what was sent; Redis may lose a job at any time. A delivery job
therefore checks the row before it sends and marks it in the same breath, and the sweeper
re-enqueues every row that is still pending once its time has come. Delivery is at least
once: a crash between the SMTP reply and the commit sends the message again, under the same
Message-ID.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta

from flask import current_app
from redis.exceptions import RedisError
from rq.job import Job
from sqlalchemy import select

from app.core.clock import utcnow
from app.core.queue import enqueue_now, state
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


def sweep_outbox(limit: int = 500) -> int:
    """Enqueue delivery of every pending row whose time has come; return how many.

    Rows whose job is still waiting in Redis are left alone, so that a backlog is not
    enqueued again on every sweep. The job id carries the attempt count: a retry is never
    merged with the job of an earlier attempt.
    """
    rows = db.session.execute(
        select(Outbox.id, Outbox.attempts)
        .where(Outbox.status == "pending", Outbox.next_attempt_at <= utcnow())
        .order_by(Outbox.next_attempt_at, Outbox.id)
        .limit(limit)
    ).all()
    db.session.rollback()  # end the read; the jobs do the rest in their own transactions
    if not rows:
        return 0
    live = _live_job_ids([f"outbox-{i}" for i, _ in rows] + [f"outbox-{i}-{n}" for i, n in rows])
    if live is None:
        return 0
    enqueued = 0
    for outbox_id, attempts in rows:
        job_id = f"outbox-{outbox_id}-{attempts}"
        if job_id in live or (attempts == 0 and f"outbox-{outbox_id}" in live):
            continue
        if not enqueue_now(deliver, outbox_id, queue="notifications", job_id=job_id):
            break  # Redis went away; the next sweep starts over
        enqueued += 1
    if enqueued:
        log.info("outbox sweep enqueued %s deliveries", enqueued)
    return enqueued


def _live_job_ids(job_ids: list[str]) -> set[str] | None:
    """Return which of these jobs are queued or running; None when Redis is unreachable."""
    try:
        with state().redis.pipeline(transaction=False) as pipe:
            for job_id in job_ids:
                pipe.hget(Job.key_for(job_id), "status")
            statuses = pipe.execute()
    except RedisError as exc:
        log.warning("outbox sweep: Redis is unreachable (%s); will try again", exc)
        return None
    return {
        job_id
        for job_id, status in zip(job_ids, statuses, strict=True)
        if status is not None and status.decode() in _LIVE_JOB_STATES
    }

"""Jobs of the notifications queue: drain the outbox, deliver one row, sweep for what is owed.

PostgreSQL is the record of what was sent; Redis may lose a job at any time. The web
processes never talk to Redis about a notice: writing an outbox row sends a NOTIFY on
OUTBOX_CHANNEL, which PostgreSQL delivers at commit to every worker listening. A worker then
raises a wake-up flag in Redis (SET NX): the first wake-up of a burst enqueues one drain job,
which delivers every due row, each in its own transaction. The periodic sweep wakes a drain
whenever due rows wait and none is on its way, so a lost notification, job or flag costs a
delay, never a message.

A row is claimed before it is sent: `pending` → `sending` (committed, with a lease in
next_attempt_at) → `sent`. A worker that is slow or a second drain never picks up a row
another is sending. Only a worker that dies between claiming and recording leaves a row
`sending`; once its lease has run out the row is sent again, under the same Message-ID,
which is the one case in which a message may arrive twice.
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from flask import current_app
from redis.exceptions import RedisError
from rq.job import Job
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError, OperationalError

from app.core.clock import utcnow
from app.core.queue import enqueue_now, redis_key, state
from app.extensions import db
from app.notifications import mail, messages, sms
from app.notifications.models import Outbox

log = logging.getLogger(__name__)
T = TypeVar("T")

#: the longest wait between two attempts, however many have failed
MAX_BACKOFF = timedelta(hours=6)
#: errors that say "not now": the server is down, busy or slow
TRANSIENT_ERRORS = (smtplib.SMTPException, OSError, TimeoutError)
#: rq job states in which a delivery is already on its way
_LIVE_JOB_STATES = {"queued", "started", "scheduled", "deferred"}
#: a wake-up flag outlives a lost drain job by at most this long
WAKE_TTL_SECONDS = 60
#: a running drain renews this lease after each row; when it lapses the drain is taken for
#: dead (a worker killed mid-batch) and the sweep starts another at once
DRAIN_LEASE_SECONDS = 10
#: a drain hands over to a fresh job after this long, so other jobs get their turn
DRAIN_SECONDS = 60.0
DRAIN_BATCH = 100
#: waits between attempts to record a send when the database connection drops (about 8 s
#: in all, well within OUTBOX_SENDING_LEASE_SECONDS)
MARK_RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0)


def _wake_key() -> str:
    return redis_key("outbox:wake")


def _lease_key() -> str:
    return redis_key("outbox:drain-lease")


def _renew_lease() -> None:
    try:
        state().redis.set(_lease_key(), "1", ex=DRAIN_LEASE_SECONDS)
    except RedisError as exc:  # the rows are claimed in PostgreSQL; the lease is a hint
        log.warning("outbox drain: could not renew its lease (%s)", exc)


#: the PostgreSQL channel an outbox row notifies when it is written (app/core/wakeups.py)
OUTBOX_CHANNEL = "city311_outbox"


def notify_worker() -> None:
    """Wake a worker when the current transaction commits (a row made due without a write)."""
    db.session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": OUTBOX_CHANNEL})


def wake() -> bool:
    """Make sure a drain job is on its way; return whether this call enqueued one.

    Called by the worker when a committed notice notifies OUTBOX_CHANNEL, and by the sweep.
    Only the first call of a burst pays for an rq enqueue; the others find the flag up and
    return at once. Redis being down is fine: the row waits in PostgreSQL for the sweep.
    """
    try:
        if not state().redis.set(_wake_key(), "1", nx=True, ex=WAKE_TTL_SECONDS):
            return False
    except RedisError as exc:
        log.warning("outbox wake-up: Redis is unreachable (%s); the sweep will deliver", exc)
        return False
    return enqueue_now(drain, queue="notifications")


def due_ids(limit: int) -> list[int]:
    """Return the ids of rows to send now, oldest first.

    That is pending rows whose time has come and rows whose sender died while sending
    (their lease has run out).
    """
    ids = db.session.scalars(
        select(Outbox.id)
        .where(Outbox.status.in_(("pending", "sending")), Outbox.next_attempt_at <= utcnow())
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
            _end_lease()
            return sent
        progress = False
        for outbox_id in ids:
            _renew_lease()
            try:
                result = deliver(outbox_id)
            except DBAPIError as exc:
                if not exc.connection_invalidated:
                    raise
                # the database dropped the connection (a restart, a failover): the pool is
                # renewed, the row is still owed, and the rest of the batch goes on
                log.warning("outbox %s: database connection lost (%s)", outbox_id, exc.orig)
                db.session.rollback()
                result = "retry"
            sent += result == "sent"
            progress = progress or result != "skipped"
        if not progress:
            _end_lease()
            return sent  # all held by other workers, or not due any more
        if time.monotonic() - started > DRAIN_SECONDS:
            _end_lease()
            wake()
            return sent


def _end_lease() -> None:
    try:
        state().redis.delete(_lease_key())
    except RedisError:
        pass


def retry_delay(attempts: int) -> timedelta:
    """Return how long to wait after the n-th failed attempt (doubling, capped)."""
    base = float(current_app.config["OUTBOX_BACKOFF_SECONDS"])
    exponent = max(attempts - 1, 0)
    if exponent > 30:  # far past the cap; avoid float overflow on absurd counts
        return MAX_BACKOFF
    return min(timedelta(seconds=base * 2**exponent), MAX_BACKOFF)


def _lock(outbox_id: int) -> Outbox | None:
    # SKIP LOCKED: if another worker holds the row it is claiming it; do not wait.
    return db.session.scalar(
        select(Outbox).where(Outbox.id == outbox_id).with_for_update(skip_locked=True)
    )


def sending_lease() -> timedelta:
    """Return how long a claimed row is left to its sender before it counts as abandoned."""
    return timedelta(seconds=float(current_app.config["OUTBOX_SENDING_LEASE_SECONDS"]))


def _claim(outbox_id: int, now: datetime) -> Outbox | None:
    """Mark a due row `sending` and commit; return it, or None when it is not ours to send."""
    row = _lock(outbox_id)
    if row is None or row.status not in ("pending", "sending") or row.next_attempt_at > now:
        db.session.rollback()
        return None
    if row.status == "sending":
        # its sender died after claiming it: the mail may or may not have left
        log.warning("outbox %s was abandoned while sending; sending it again", outbox_id)
        if row.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
            row.status = "failed"
            row.last_error = "the worker stopped while sending, on the last attempt"
            db.session.commit()
            return None
    row.status = "sending"
    row.attempts += 1
    row.next_attempt_at = now + sending_lease()
    db.session.commit()
    return row


def deliver(outbox_id: int) -> str:
    """Send the email or text message an outbox row owes, once; return what happened.

    The result is one of "sent", "retry" (a failure; the sweeper tries again later),
    "failed" (given up), "superseded" (a status update made moot by later news), or
    "skipped" (already sent or failed, not due yet, gone, or being sent by another worker).
    """
    now = utcnow()
    row = _claim(outbox_id, now)
    if row is None:
        return "skipped"
    event = row.event
    try:
        if messages.superseded(row):
            _mark(outbox_id, status="superseded", last_error="")
            log.info("outbox %s (%s) superseded by later news; not sent", outbox_id, event)
            return "superseded"
        where = _send(row)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            _record_failure(outbox_id, exc, now)
            raise
        # the database dropped the connection while the message was being put together:
        # nothing has left, so the row is owed again now rather than after its lease
        _mark(outbox_id, status="pending", next_attempt_at=utcnow())
        log.warning("outbox %s: database connection lost before sending; owed again", outbox_id)
        return "retry"
    except (mail.PermanentFailure, sms.SmsRefused) as exc:
        _record_failure(outbox_id, exc, now, give_up=True)
        log.warning("outbox %s refused for good: %s", outbox_id, exc)
        return "failed"
    except TRANSIENT_ERRORS as exc:
        status = _record_failure(outbox_id, exc, now)
        return "retry" if status == "pending" else "failed"
    except Exception as exc:
        # A bug (a template error, bad data): count the attempt so that it ends in "failed"
        # instead of being retried for ever, and let rq record the traceback.
        _record_failure(outbox_id, exc, now)
        raise
    _mark(outbox_id, status="sent", sent_at=utcnow(), last_error="")
    log.info("outbox %s (%s) sent via %s", outbox_id, event, where)
    return "sent"


def _send(row: Outbox) -> str:
    """Hand a claimed row to its channel; return where it went."""
    if row.channel == "sms":
        return sms.backend().send(row.recipient, sms.build_text(row))
    return mail.send(mail.build_message(row))


def _mark(outbox_id: int, **values: object) -> None:
    """Move a claimed row on (sent, pending again, failed), riding out a dropped connection."""

    def move_on() -> None:
        # only the claim's own holder moves a row on from `sending`
        db.session.execute(
            update(Outbox)
            .where(Outbox.id == outbox_id, Outbox.status == "sending")
            .values(**values)
        )
        db.session.commit()

    _through_reconnects(outbox_id, move_on)


def _through_reconnects(outbox_id: int, work: Callable[[], T]) -> T:
    """Run `work` in a fresh transaction; again on a new connection if the database drops it.

    The email has left (or failed) by now: a row left `sending` because the connection
    dropped while recording that would be sent again once its lease ran out. What is
    recorded is idempotent, so it is simply tried again for a few seconds, well within
    the lease. The first statement on a connection the server has ended (the rollback that
    ends the transaction the send ran in, often) is what finds it gone.
    """
    for delay in (*MARK_RETRY_DELAYS, None):
        try:
            db.session.rollback()
            return work()
        except DBAPIError as exc:
            if delay is None or not (
                exc.connection_invalidated or isinstance(exc, OperationalError)
            ):
                raise
            log.warning(
                "outbox %s: the database connection dropped while recording the result (%s); "
                "trying again in %.1f s",
                outbox_id,
                exc.orig.__class__.__name__ if exc.orig is not None else exc,
                delay,
            )
            time.sleep(delay)
    raise AssertionError("unreachable: the last attempt returns or raises")


def _record_failure(
    outbox_id: int, exc: BaseException, now: datetime, give_up: bool = False
) -> str:
    """Put a claimed row back to wait (or give it up); return its new status."""
    attempts = _through_reconnects(
        outbox_id,
        lambda: db.session.scalar(select(Outbox.attempts).where(Outbox.id == outbox_id)) or 0,
    )
    error = f"{exc.__class__.__name__}: {exc}"[:2000]
    if give_up or attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        _mark(outbox_id, status="failed", last_error=error)
        log.error("outbox %s failed %s times, giving up: %s", outbox_id, attempts, exc)
        return "failed"
    next_at = now + retry_delay(attempts)
    _mark(outbox_id, status="pending", last_error=error, next_attempt_at=next_at)
    log.warning(
        "outbox %s attempt %s failed (%s); next try at %s", outbox_id, attempts, exc, next_at
    )
    return "pending"


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
    """Tell whether a drain job is queued, or running with its lease renewed.

    rq keeps a job "started" for minutes after its worker was killed; the lease, renewed
    by the drain after each row, tells within DRAIN_LEASE_SECONDS that nobody runs it.
    """
    redis = state().redis
    queue = state().queues["notifications"]
    job_ids = queue.job_ids
    if redis.exists(_lease_key()):
        job_ids = job_ids + queue.started_job_registry.get_job_ids()
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

"""Jobs of the notifications queue: drain the outbox, deliver one row, sweep for what is owed.

PostgreSQL is the record of what was sent; Redis may lose a job at any time. The web
processes never talk to Redis about a notice: writing an outbox row sends a NOTIFY on
OUTBOX_CHANNEL, which PostgreSQL delivers at commit to every worker listening. A worker then
raises a wake-up flag in Redis (SET NX): the first wake-up of a burst enqueues one drain job,
which delivers every due row, each in its own transaction. The periodic sweep wakes a drain
whenever due rows wait and none is on its way, so a lost notification, job or flag costs a
delay, never a message.

A drain claims due rows a batch at a time and sends them over one SMTP connection; each row's
result is recorded right after its send (app/notifications/claims.py). A worker that is slow
or a second drain never picks up a row another is sending. Only a worker that dies between
sending and recording leaves a sent row `sending`; once its lease has run out the row is sent
again, under the same Message-ID, which is the one case in which a message may arrive twice.
"""

from __future__ import annotations

import logging
import smtplib
import time
from datetime import datetime

from redis.exceptions import RedisError
from rq.job import Job
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import lazyload

from app.core.clock import utcnow
from app.core.queue import enqueue_now, redis_key, state
from app.extensions import db
from app.notifications import claims, follow, mail, messages, sms, smtp
from app.notifications.claims import MAX_BACKOFF, retry_delay, sending_lease
from app.notifications.models import Outbox
from app.requests.models import ServiceRequest

log = logging.getLogger(__name__)
__all__ = ["MAX_BACKOFF", "deliver", "drain", "retry_delay", "sweep_outbox", "wake"]
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
#: rows claimed at a time: enough to spread the claim's round trips, few enough that two
#: workers draining at once share a burst, and that a worker killed mid-batch leaves few
#: rows waiting for their lease
DRAIN_BATCH = 16


def _wake_key() -> str:
    return redis_key("outbox:wake")


def _lease_key() -> str:
    return redis_key("outbox:drain-lease")


_renewed_at = 0.0


def _renew_lease() -> None:
    # once a second is plenty for a lease of DRAIN_LEASE_SECONDS (a Redis round trip each)
    global _renewed_at
    if time.monotonic() - _renewed_at < 1.0:
        return
    _renewed_at = time.monotonic()
    try:
        state().redis.set(_lease_key(), "1", ex=DRAIN_LEASE_SECONDS)
    except RedisError as exc:  # the rows are claimed in PostgreSQL; the lease is a hint
        log.warning("outbox drain: could not renew its lease (%s)", exc)


def _end_lease() -> None:
    global _renewed_at
    _renewed_at = 0.0
    try:
        state().redis.delete(_lease_key())
    except RedisError:
        pass


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
    db.session.rollback()  # end the read
    return list(ids)


def drain() -> int:
    """Deliver every due outbox row; return how many were sent."""
    started = time.monotonic()
    sent = 0
    # Lower the flag before reading: a notice committed from now on raises it again and
    # wakes another drain, and one committed before is visible to the claim below.
    state().redis.delete(_wake_key())
    session = db.session()
    # The batch's rows and requests are read once, after the claim's commit; the commit
    # that records each message must not make every one of them be read again.
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        with smtp.Sender() as sender:
            while True:
                _renew_lease()
                now = utcnow()
                try:
                    ids, until = claims.claim(DRAIN_BATCH, now)
                except DBAPIError as exc:
                    if not exc.connection_invalidated:
                        raise
                    # claimed or not, those rows are owed: at the latest after their lease
                    log.warning("outbox drain: database connection lost while claiming")
                    db.session.rollback()
                    continue
                if not ids:
                    _end_lease()
                    return sent
                sent += _send_batch(ids, until, now, sender)
                if time.monotonic() - started > DRAIN_SECONDS:
                    _end_lease()
                    wake()
                    return sent
    finally:
        session.expire_on_commit = expire_on_commit
        follow.forget_unsubscribes()
        session.expire_all()  # what the caller holds is read afresh, as after any commit


def _send_batch(ids: list[int], until: datetime, claimed_at: datetime, sender: smtp.Sender) -> int:
    """Deliver a claimed batch in order; hand back what half the lease did not cover."""
    # held for the batch: the session keeps only weak references to what it has read
    loaded = _preload(ids)  # noqa: F841
    deadline = time.monotonic() + sending_lease().total_seconds() / 2
    sent = 0
    for n, outbox_id in enumerate(ids):
        if time.monotonic() > deadline:
            claims.release(ids[n:], until, utcnow())
            break
        _renew_lease()
        try:
            result = _deliver_claimed(outbox_id, claimed_at, sender)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            # the database dropped the connection (a restart, a failover): the pool is
            # renewed, the row is still owed, and the rest of the batch goes on
            log.warning("outbox %s: database connection lost (%s)", outbox_id, exc.orig)
            db.session.rollback()
            continue
        sent += result == "sent"
    return sent


def _preload(ids: list[int]) -> list[object]:
    """Read a batch's rows, their requests and unsubscribes in three statements."""
    rows = db.session.scalars(select(Outbox).where(Outbox.id.in_(ids))).all()
    request_ids = {row.request_id for row in rows if row.request_id is not None}
    if not request_ids:
        return list(rows)
    follow.remember_unsubscribes(request_ids)
    requests = db.session.scalars(
        select(ServiceRequest)
        # the ward's polygon is not in any message
        .options(lazyload(ServiceRequest.district))
        .where(ServiceRequest.id.in_(request_ids))
    ).all()
    return [*rows, *requests]


def deliver(outbox_id: int) -> str:
    """Send the email or text message an outbox row owes, once; return what happened.

    The result is one of "sent", "retry" (a failure; the sweeper tries again later),
    "failed" (given up), "superseded" (a status update made moot by later news), or
    "skipped" (already sent or failed, not due yet, gone, or being sent by another worker).
    """
    now = utcnow()
    ids, _ = claims.claim(1, now, outbox_id)
    if not ids:
        return "skipped"
    with smtp.Sender() as sender:
        return _deliver_claimed(outbox_id, now, sender)


def _deliver_claimed(outbox_id: int, now: datetime, sender: smtp.Sender) -> str:
    """Build and send a row this worker has claimed, and record the result."""
    row = db.session.get(Outbox, outbox_id)
    if row is None:
        return "skipped"
    event = row.event
    try:
        if messages.superseded(row):
            claims.mark(outbox_id, in_transaction=True, status="superseded", last_error="")
            log.info("outbox %s (%s) superseded by later news; not sent", outbox_id, event)
            return "superseded"
        where = _send(row, sender)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            claims.record_failure(outbox_id, exc, now)
            raise
        # the database dropped the connection while the message was being put together:
        # nothing has left, so the row is owed again now rather than after its lease
        claims.mark(outbox_id, status="pending", next_attempt_at=utcnow())
        log.warning("outbox %s: database connection lost before sending; owed again", outbox_id)
        return "retry"
    except (mail.PermanentFailure, sms.SmsRefused) as exc:
        claims.record_failure(outbox_id, exc, now, give_up=True)
        log.warning("outbox %s refused for good: %s", outbox_id, exc)
        return "failed"
    except TRANSIENT_ERRORS as exc:
        status = claims.record_failure(outbox_id, exc, now)
        return "retry" if status == "pending" else "failed"
    except Exception as exc:
        # A bug (a template error, bad data): count the attempt so that it ends in "failed"
        # instead of being retried for ever, and let rq record the traceback.
        claims.record_failure(outbox_id, exc, now)
        raise
    # recorded in the transaction the message was built in: one commit per message
    claims.mark(outbox_id, in_transaction=True, status="sent", sent_at=utcnow(), last_error="")
    log.info("outbox %s (%s) sent via %s", outbox_id, event, where)
    return "sent"


def _send(row: Outbox, sender: smtp.Sender) -> str:
    """Hand a claimed row to its channel; return where it went."""
    if row.channel == "sms":
        return sms.backend().send(row.recipient, sms.build_text(row))
    return sender.send(mail.build_message(row), mail.envelope(row))


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

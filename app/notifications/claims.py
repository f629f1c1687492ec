"""Claiming outbox rows for sending, and recording what became of them.

A row is claimed before it is sent: `pending` → `sending` (committed, with a lease in
next_attempt_at) → `sent`, `pending` again (a retry) or `failed`. A drain claims a batch of
due rows in one statement (SKIP LOCKED: rows another worker holds are left to it), sends
them one by one, and records each result in the transaction its message was built in, right
after the send: a worker that dies leaves at most the one message it was sending unrecorded,
the only one that may then be sent twice. Rows claimed but not reached are never sent, so
their lease running out costs a delay only; a drain that falls behind its lease hands the
rest back before it runs out (`release`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TypeVar

from flask import current_app
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.elements import TextClause

from app.core import direct
from app.extensions import db
from app.notifications.models import Outbox

log = logging.getLogger(__name__)
T = TypeVar("T")

#: the longest wait between two attempts, however many have failed
MAX_BACKOFF = timedelta(hours=6)
#: waits between attempts to record a send when the database connection drops (about 8 s
#: in all, well within OUTBOX_SENDING_LEASE_SECONDS)
MARK_RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0)

_CLAIM = """
    WITH due AS (
        SELECT id, status AS was, attempts, next_attempt_at AS due_at
        FROM outbox
        WHERE status IN ('pending', 'sending') AND next_attempt_at <= :now {only}
        ORDER BY next_attempt_at, id
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    ), given_up AS (
        -- its sender died while sending it on the last attempt allowed
        UPDATE outbox o
        SET status = 'failed',
            last_error = 'the worker stopped while sending, on the last attempt'
        FROM due
        WHERE o.id = due.id AND due.was = 'sending' AND due.attempts >= :max_attempts
        RETURNING o.id
    ), claimed AS (
        UPDATE outbox o
        SET status = 'sending', attempts = o.attempts + 1, next_attempt_at = :until
        FROM due
        WHERE o.id = due.id AND NOT (due.was = 'sending' AND due.attempts >= :max_attempts)
        RETURNING o.id
    )
    SELECT due.id, due.was, claimed.id IS NOT NULL AS ours
    FROM due LEFT JOIN claimed ON claimed.id = due.id
    ORDER BY due.due_at, due.id
"""
_CLAIM_ANY, _CLAIM_ONE = text(_CLAIM.format(only="")), text(_CLAIM.format(only="AND id = :id"))


def sending_lease() -> timedelta:
    """Return how long a claimed row is left to its sender before it counts as abandoned."""
    return timedelta(seconds=float(current_app.config["OUTBOX_SENDING_LEASE_SECONDS"]))


def claim(limit: int, now: datetime, outbox_id: int | None = None) -> tuple[list[int], datetime]:
    """Claim up to `limit` due rows (or just `outbox_id`) and commit; return ids and lease end.

    Due rows are pending rows whose time has come and rows whose sender died while sending
    (their lease has run out): those are sent again, or given up on their last attempt.
    """
    until = now + sending_lease()
    params = {
        "now": now,
        "until": until,
        "limit": limit,
        "max_attempts": int(current_app.config["OUTBOX_MAX_ATTEMPTS"]),
    }
    if outbox_id is not None:
        params["id"] = outbox_id
    rows = db.session.execute(_CLAIM_ONE if outbox_id is not None else _CLAIM_ANY, params).all()
    db.session.commit()
    for row_id, was, ours in rows:
        if was == "sending":
            # its sender died after claiming it: the mail may or may not have left
            log.warning(
                "outbox %s was abandoned while sending; %s",
                row_id,
                "sending it again" if ours else "that was its last attempt: failed",
            )
    return [row_id for row_id, _, ours in rows if ours], until


def release(outbox_ids: list[int], until: datetime, now: datetime) -> None:
    """Hand back claimed rows not attempted, while their lease (`until`) still holds."""
    if not outbox_ids:
        return
    db.session.rollback()
    db.session.execute(
        update(Outbox)
        .where(
            Outbox.id.in_(outbox_ids),
            Outbox.status == "sending",
            Outbox.next_attempt_at == until,  # still our claim
        )
        .values(status="pending", attempts=Outbox.attempts - 1, next_attempt_at=now)
    )
    db.session.commit()


def retry_delay(attempts: int) -> timedelta:
    """Return how long to wait after the n-th failed attempt (doubling, capped)."""
    base = float(current_app.config["OUTBOX_BACKOFF_SECONDS"])
    exponent = max(attempts - 1, 0)
    if exponent > 30:  # far past the cap; avoid float overflow on absurd counts
        return MAX_BACKOFF
    return min(timedelta(seconds=base * 2**exponent), MAX_BACKOFF)


#: the columns a result sets (status, sent_at, last_error, next_attempt_at)
_MARKED = frozenset(Outbox.__table__.columns.keys())


@lru_cache(maxsize=16)
def _mark_statement(columns: tuple[str, ...]) -> TextClause:
    # plain SQL: an ORM UPDATE compiles, evaluates its WHERE against the session's objects
    # and synchronises them, per message; only the claim's holder moves a row from `sending`
    assignments = ", ".join(f"{column} = :{column}" for column in columns)
    return text(
        f"UPDATE outbox SET {assignments} WHERE id = :outbox_id AND status = 'sending' RETURNING id"
    )


def mark(outbox_id: int, *, in_transaction: bool = False, **values: object) -> None:
    """Move a claimed row on (sent, pending again, failed), riding out a dropped connection.

    With `in_transaction` the first attempt is made in the transaction already open, if the
    message's building opened one (no fresh one: a round trip fewer); otherwise after ending
    it. With no transaction open the UPDATE commits itself (core.direct).
    """
    unknown = set(values) - _MARKED
    if unknown:
        raise ValueError(f"outbox has no column {sorted(unknown)}")
    statement = _mark_statement(tuple(sorted(values)))

    def move_on() -> None:
        # nothing read to build the message: one round trip, not BEGIN, UPDATE and COMMIT
        moved = direct.fetch_row(statement, {**values, "outbox_id": outbox_id}, alone=True)
        direct.commit()
        row = db.session.identity_map.get(identity_key(Outbox, outbox_id))
        if moved and row is not None:
            # what the UPDATE wrote, as the ORM's own UPDATE would have set it on the object
            for column, value in values.items():
                set_committed_value(row, column, value)

    through_reconnects(outbox_id, move_on, fresh=not in_transaction)


def through_reconnects(outbox_id: int, work: Callable[[], T], *, fresh: bool = True) -> T:
    """Run `work` (in a fresh transaction if `fresh`); again on a new connection if dropped.

    The email has left (or failed) by now: a row left `sending` because the connection
    dropped while recording that would be sent again once its lease ran out. What is
    recorded is idempotent, so it is simply tried again for a few seconds, well within
    the lease. The first statement on a connection the server has ended (often the
    rollback that ends the transaction the send ran in) is what finds it gone.
    """
    for delay in (*MARK_RETRY_DELAYS, None):
        try:
            if fresh:
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
            fresh = True
            time.sleep(delay)
    raise AssertionError("unreachable: the last attempt returns or raises")


def record_failure(outbox_id: int, exc: BaseException, now: datetime, give_up: bool = False) -> str:
    """Put a claimed row back to wait (or give it up); return its new status."""
    attempts = through_reconnects(
        outbox_id,
        lambda: db.session.scalar(select(Outbox.attempts).where(Outbox.id == outbox_id)) or 0,
    )
    error = f"{exc.__class__.__name__}: {exc}"[:2000]
    if give_up or attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        mark(outbox_id, status="failed", last_error=error)
        log.error("outbox %s failed %s times, giving up: %s", outbox_id, attempts, exc)
        return "failed"
    next_at = now + retry_delay(attempts)
    mark(outbox_id, status="pending", last_error=error, next_attempt_at=next_at)
    log.warning(
        "outbox %s attempt %s failed (%s); next try at %s", outbox_id, attempts, exc, next_at
    )
    return "pending"

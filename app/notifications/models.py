"""The notification outbox: what is owed to whom, written in the same transaction as its cause."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import created_at_column, enum_check
from app.extensions import Model

#: pending → sending (claimed by one worker, for a lease) → sent; failed after the last
#: attempt; superseded: a status update not sent because later news was owed by then
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "superseded")
#: the column has no CHECK: the kinds are listed here for readers, and a new one needs no migration
OUTBOX_EVENTS = (
    "receipt",
    "acknowledged",
    "assigned",
    "on_hold",
    "resumed",
    "transferred",
    "reopened",
    "closed",
    "merged",
    "overdue_digest",
    "staff_password",
)
CHANNELS = ("email", "sms")


class Outbox(Model):
    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(enum_check("status", OUTBOX_STATUSES), name="status"),
        CheckConstraint(enum_check("channel", CHANNELS), name="channel"),
        # one receipt per request, and one closure notice per closing, however often
        # retried; a request reopened and fixed again owes a new closure notice. NULLS NOT
        # DISTINCT: a notice about no one request (the overdue digest) is owed once too.
        UniqueConstraint(
            "event",
            "request_id",
            "recipient",
            "dedupe_key",
            name="uq_outbox_once",
            postgresql_nulls_not_distinct=True,
        ),
        Index(
            "ix_outbox_due",
            "next_attempt_at",
            postgresql_where=text("status IN ('pending', 'sending')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event: Mapped[str] = mapped_column(String(30))
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"), index=True
    )
    recipient: Mapped[str] = mapped_column(String(254))
    channel: Mapped[str] = mapped_column(String(10), default="email", server_default="email")
    #: what makes this notice distinct from an earlier one of the same event: for a closure,
    #: the id of the closing event; empty for a receipt
    dedupe_key: Mapped[str] = mapped_column(String(40), default="", server_default="")
    #: everything the message needs that may change later (note, photo id, work order id)
    payload: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    status: Mapped[str] = mapped_column(String(10), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = created_at_column()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"<Outbox {self.id} {self.event} {self.status}>"


class OverdueDigest(Model):
    """A department's overdue digest of one city-local day: claimed once, by one worker.

    The row is written in the transaction that queues the digest's emails, so whichever
    worker inserts it first sends that day's digest and every other run skips the
    department, even when there was nothing to report and no email went out.
    """

    __tablename__ = "overdue_digests"

    department_id: Mapped[int] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    #: what the digest counted when it was composed, and how many it went to
    overdue: Mapped[int] = mapped_column(Integer)
    due_soon: Mapped[int] = mapped_column(Integer)
    recipients: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()

    def __repr__(self) -> str:
        return f"<OverdueDigest {self.department_id} {self.day}>"


class SatisfactionResponse(Model):
    """The reporter's answer to "is it fixed?" about one closing of a request."""

    __tablename__ = "satisfaction_responses"
    __table_args__ = (
        # one answer per closing: answering again (adding a rating) updates it
        UniqueConstraint("request_id", "closed_event_id", name="uq_satisfaction_once"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"), index=True
    )
    #: the 'closed' history event asked about: a request reopened and closed again is
    #: asked again, and each answer counts apart
    closed_event_id: Mapped[int] = mapped_column(BigInteger)
    email: Mapped[str] = mapped_column(String(254))
    fixed: Mapped[bool] = mapped_column()
    rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: whether this answer reopened the request ("not fixed" within the window)
    reopened: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()

    def __repr__(self) -> str:
        return f"<SatisfactionResponse {self.request_id} fixed={self.fixed}>"


class Unsubscribe(Model):
    """An address that asked for no more messages about one request (by its email's link)."""

    __tablename__ = "unsubscribes"

    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"), primary_key=True
    )
    #: stored lower-case: addresses are compared without case
    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    created_at: Mapped[datetime] = created_at_column()

    def __repr__(self) -> str:
        return f"<Unsubscribe {self.request_id} {self.email}>"

"""The notification outbox: what is owed to whom, written in the same transaction as its cause."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
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

OUTBOX_STATUSES = ("pending", "sent", "failed")
#: the column has no CHECK: the kinds are listed here for readers, and a new one needs no migration
OUTBOX_EVENTS = ("receipt", "closed", "merged", "overdue_digest")
CHANNELS = ("email",)


class Outbox(Model):
    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(enum_check("status", OUTBOX_STATUSES), name="status"),
        CheckConstraint(enum_check("channel", CHANNELS), name="channel"),
        # one receipt per request, and one closure notice per closing, however often
        # retried; a request reopened and fixed again owes a new closure notice
        UniqueConstraint("event", "request_id", "recipient", "dedupe_key", name="uq_outbox_once"),
        Index(
            "ix_outbox_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
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

"""The configuration audit: who changed which setting, when, and what it was before and after.

Admin verbs call record() in the same transaction as their change, so an audit row exists
exactly when the change was committed. Rows are appended, never edited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_login import current_user
from sqlalchemy import BigInteger, DateTime, ForeignKey, String, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model, db

#: audit rows shown per page
PAGE_SIZE = 50


@dataclass(frozen=True)
class Actor:
    """Who made a change when no account did: no id, and a label kept where an email would be."""

    id: None
    email: str


#: changes made by `flask …` commands on the server: whoever ran them holds the server itself
COMMAND_LINE = Actor(None, "command line")


class AuditEntry(Model):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), index=True
    )
    # the email is kept as written then: an actor's row may be renamed or deactivated later
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor_email: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(40))
    target_kind: Mapped[str] = mapped_column(String(40), index=True)
    target_id: Mapped[str] = mapped_column(String(80), default="")
    target_label: Mapped[str] = mapped_column(String(200), default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

    def __repr__(self) -> str:
        return f"<AuditEntry {self.action} {self.target_kind}:{self.target_id}>"


def _plain(value: Any) -> Any:
    """Return a value JSON can hold (dates as ISO text, decimals as floats)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def record(
    actor: Any,
    action: str,
    target: tuple[str, Any, str],
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an audit entry; `target` is (kind, id, label); None for `actor` is the signed-in user.

    `actor` is a User, an Actor such as COMMAND_LINE (no account), or None.

    It flushes and never commits: the caller's commit stores the change and its entry together.
    """
    if actor is None and current_user and current_user.is_authenticated:
        actor = current_user
    kind, target_id, label = target
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        actor_email=getattr(actor, "email", "") or "",
        action=action,
        target_kind=kind,
        target_id=str(target_id if target_id is not None else ""),
        target_label=(label or "")[:200],
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def list_entries(
    *, kind: str | None = None, actor: str | None = None, page: int = 1
) -> tuple[list[AuditEntry], int]:
    """Return a page of entries, newest first, filtered by target kind and actor; and the total."""
    stmt = select(AuditEntry)
    if kind:
        stmt = stmt.where(AuditEntry.target_kind == kind)
    if actor:
        stmt = stmt.where(
            func.lower(AuditEntry.actor_email).contains(actor.strip().lower(), autoescape=True)
        )
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.scalars(
        stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(PAGE_SIZE)
        .offset((max(page, 1) - 1) * PAGE_SIZE)
    )
    return list(rows), total


def target_kinds() -> list[str]:
    """Return the target kinds that have entries, for the filter."""
    return list(
        db.session.scalars(
            select(AuditEntry.target_kind).distinct().order_by(AuditEntry.target_kind)
        )
    )

"""Photos attached to requests (by residents) and work orders (by crews)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import created_at_column, enum_check
from app.extensions import Model

#: report: the resident's; before/after: the crew's; note: with a public staff note;
#: internal: with an internal note, for staff only (never served at the public URLs)
PHOTO_KINDS = ("report", "before", "after", "note", "internal")
#: photos whose copies only staff may see
STAFF_ONLY_KINDS = ("internal",)


class Photo(Model):
    __tablename__ = "photos"
    __table_args__ = (CheckConstraint(enum_check("kind", PHOTO_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"), index=True
    )
    work_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    #: random name of the stored files; never derived from the uploader's file name
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(Integer)
    #: when the public, metadata-free derivatives (display + thumbnail) were written
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: derivative jobs tried so far; after MAX_ATTEMPTS the photo is marked failed
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: when the photo was given up on: the sweep no longer retries it, pages show a placeholder
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()

    def __repr__(self) -> str:
        return f"<Photo {self.id} {self.kind}>"

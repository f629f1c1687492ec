"""Crews and the work orders that send them to one or more requests."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import created_at_column, enum_check
from app.extensions import Model, db

WORK_ORDER_STATUSES = ("assigned", "in_progress", "completed", "cancelled")
PRIORITIES = ("low", "normal", "high", "urgent")

work_order_requests = Table(
    "work_order_requests",
    db.metadata,
    Column(
        "work_order_id",
        ForeignKey("work_orders.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "request_id",
        ForeignKey("service_requests.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class WorkOrder(Model):
    __tablename__ = "work_orders"
    __table_args__ = (
        CheckConstraint(enum_check("status", WORK_ORDER_STATUSES), name="status"),
        CheckConstraint(enum_check("priority", PRIORITIES), name="priority"),
        CheckConstraint("labour_hours IS NULL OR labour_hours >= 0", name="labour_hours"),
        Index(
            "ix_work_orders_crew_open",
            "crew_id",
            postgresql_where=text("status IN ('assigned', 'in_progress')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    crew_id: Mapped[int] = mapped_column(ForeignKey("crews.id"))
    status: Mapped[str] = mapped_column(String(20), default="assigned", server_default="assigned")
    #: the dispatcher's instructions to the crew
    instructions: Mapped[str] = mapped_column(Text, default="", server_default="")
    priority: Mapped[str] = mapped_column(String(10), default="normal", server_default="normal")
    #: the day the dispatcher plans the work for (city calendar day)
    scheduled_for: Mapped[date | None] = mapped_column(Date)
    #: where the crew goes: the point of its first request; crews' lists sort by it (KNN)
    location = mapped_column(Geometry("POINT", srid=4326, spatial_index=True))
    #: reported by the crew at completion
    labour_hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    #: [{"name": "cold patch", "quantity": 2.5, "unit": "bag"}]
    materials: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, default=list, server_default=text("'[]'::jsonb")
    )
    #: the crew's note on completion; sent to reporters with the completion photo
    completion_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()
    assigned_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    crew = relationship("Crew", lazy="joined")
    requests = relationship(
        "ServiceRequest",
        secondary=work_order_requests,
        lazy="selectin",
        order_by="ServiceRequest.id",
    )

    def __repr__(self) -> str:
        return f"<WorkOrder {self.id} {self.status}>"

"""Crews and the work orders that send them to one or more requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import created_at_column, enum_check
from app.extensions import Model, db

WORK_ORDER_STATUSES = ("assigned", "in_progress", "completed", "cancelled")

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

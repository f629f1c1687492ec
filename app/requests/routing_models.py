"""The routing rules table: which department, and which crew, a type's requests go to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import created_at_column
from app.extensions import Model


class RoutingRule(Model):
    """Where requests of a type go: the department, and the crew it proposes, per district.

    A rule for a district wins over the type's rule for every district (district_id NULL),
    which wins over the type's own department.
    """

    __tablename__ = "routing_rules"
    __table_args__ = (
        Index(
            "uq_routing_rules_type_district",
            "service_type_id",
            "district_id",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_type_id: Mapped[int] = mapped_column(ForeignKey("service_types.id", ondelete="CASCADE"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    crew_id: Mapped[int | None] = mapped_column(ForeignKey("crews.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()

    service_type = relationship("ServiceType", lazy="joined")
    district = relationship("District", lazy="joined")
    department = relationship("Department", lazy="joined")
    crew = relationship("Crew", lazy="joined")

    def __repr__(self) -> str:
        return f"<RoutingRule {self.service_type_id}/{self.district_id}>"

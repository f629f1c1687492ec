"""Districts: the polygons that requests are tagged and routed with; and the gazetteer."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import created_at_column
from app.extensions import Model


def _trigram_index(name: str, column: str) -> Index:
    """A GIN trigram index: LIKE 'prefix%' and the similarity operators (%, <%) use it."""
    return Index(name, column, postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})


class District(Model):
    __tablename__ = "districts"
    __table_args__ = (UniqueConstraint("kind", "code", name="uq_districts_kind_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: e.g. "ward", "council_district", "neighborhood"
    kind: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    #: deferred: every request loads its district (joined), and a ward's outline is up to
    #: tens of kilobytes that only boundary replacement reads in Python
    geom = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False, deferred=True
    )
    #: dropped by a boundary replacement but kept for the closed requests it still names;
    #: a retired district has no routing pieces, so nothing new is ever tagged with it
    retired: Mapped[bool] = mapped_column(default=False, server_default="false")

    def __repr__(self) -> str:
        return f"<District {self.kind} {self.code}>"


class DistrictPart(Model):
    """A small piece of a district's polygon (ST_Subdivide), for fast point-in-polygon tests.

    Routing tests a point against a few dozen vertices of one indexed piece instead of the
    hundreds of a whole ward; geo.service keeps the pieces in step with `districts`.
    """

    __tablename__ = "district_parts"

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(
        ForeignKey("districts.id", ondelete="CASCADE"), index=True
    )
    #: the district's kind, copied so that routing reads this table alone
    kind: Mapped[str] = mapped_column(String(40))
    geom = mapped_column(Geometry("POLYGON", srid=4326, spatial_index=True), nullable=False)


class Address(Model):
    """A gazetteer entry: one address of the city's master address list and its point."""

    __tablename__ = "addresses"
    # trigram index: typed addresses are found by prefix and despite typos (pg_trgm)
    __table_args__ = (_trigram_index("ix_addresses_normalized_trgm", "normalized"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the id in the city's master address repository (Open311 address_id)
    address_id: Mapped[str] = mapped_column(String(100), unique=True)
    address: Mapped[str] = mapped_column(String(400))
    #: lower-cased, punctuation-free form of `address`, for matching typed addresses
    normalized: Mapped[str] = mapped_column(String(400), index=True)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=False)

    def __repr__(self) -> str:
        return f"<Address {self.address_id} {self.address}>"


class Intersection(Model):
    """A gazetteer point where two named streets meet, found as "Main St & Broad St"."""

    __tablename__ = "intersections"
    __table_args__ = (
        UniqueConstraint("normalized_a", "normalized_b", name="uq_intersections_ab"),
        _trigram_index("ix_intersections_normalized_a_trgm", "normalized_a"),
        _trigram_index("ix_intersections_normalized_b_trgm", "normalized_b"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    street_a: Mapped[str] = mapped_column(String(200))
    street_b: Mapped[str] = mapped_column(String(200))
    #: the streets' matching forms (gazetteer.normalize_address), street_a's first
    normalized_a: Mapped[str] = mapped_column(String(200))
    normalized_b: Mapped[str] = mapped_column(String(200))
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=False)

    def __repr__(self) -> str:
        return f"<Intersection {self.street_a} & {self.street_b}>"


class DistrictUpload(Model):
    """A boundary file waiting between its preview and its confirmation.

    Kept in PostgreSQL rather than on the web server's disk: the confirmation may reach
    another web host than the preview did.
    """

    __tablename__ = "district_uploads"

    token: Mapped[str] = mapped_column(String(40), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = created_at_column()

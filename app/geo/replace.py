"""Replace all the districts of a kind from a boundary file, all or nothing, and audited.

The admin upload (preview, then confirm) and `flask import districts` both call
replace_districts. A preview is the real replacement run inside a savepoint that is then
rolled back, so its counts are exactly what confirming will do.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from geoalchemy2.shape import from_shape, to_shape
from sqlalchemy import delete, select, text
from sqlalchemy.orm import undefer

from app.core import audit
from app.core.errors import DomainError
from app.extensions import db
from app.geo.boundaries import Boundary
from app.geo.models import District, DistrictPart
from app.geo.routing import covering_district_sql, routing_kind
from app.geo.service import split_districts

_KIND = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def check_kind(kind: str) -> str:
    """Return a district kind checked: lower-case letters, digits and _, e.g. ward.

    :raises DomainError: anything else (400).
    """
    kind = (kind or "").strip()
    if not _KIND.match(kind):
        raise DomainError(
            "A district kind is 1 to 40 lower-case letters, digits or _ "
            "(e.g. ward, council_district).",
            field="kind",
        )
    return kind


def code_order(code: str) -> tuple[int, int, str]:
    """Sort codes as people read them: 2 before 10."""
    return (0, int(code), "") if code.isdigit() else (1, 0, code)


@dataclass
class Replacement:
    """What replacing a kind's districts does (or did)."""

    kind: str
    #: this kind tags requests (ROUTING_DISTRICT_KIND): open requests are re-tagged
    routing: bool
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    #: codes whose polygon in the file was invalid and was repaired
    repaired: list[str] = field(default_factory=list)
    #: open requests that change district
    moved: int = 0
    #: open requests that had a district and would be in none
    outside: int = 0
    applied: bool = False

    def summary(self) -> dict[str, Any]:
        """Return the counts and codes (never geometries), for the audit and the API."""
        return asdict(self)


_RETAG = text(
    f"""
    WITH placed AS (
        SELECT sr.id, sr.district_id AS old_id,
               (SELECT c.id FROM ({covering_district_sql("sr.location", ":kind")}) c) AS new_id
        FROM service_requests sr WHERE sr.status <> 'closed'
    ), changed AS (
        UPDATE service_requests s SET district_id = p.new_id
        FROM placed p WHERE s.id = p.id AND s.district_id IS DISTINCT FROM p.new_id
        RETURNING p.old_id, p.new_id
    )
    SELECT count(*) FILTER (WHERE new_id IS NOT NULL) AS moved,
           count(*) FILTER (WHERE new_id IS NULL AND old_id IS NOT NULL) AS outside
    FROM changed
    """
)


_NAMED = text("SELECT EXISTS (SELECT 1 FROM service_requests WHERE district_id = :id)")


def _write(kind: str, boundaries: list[Boundary], result: Replacement) -> None:
    # two replacements of one kind at once would interleave: the second waits for the first
    rows = db.session.scalars(
        select(District)
        .options(undefer(District.geom))  # compared below
        .where(District.kind == kind)
        .with_for_update()
    )
    existing = {d.code: d for d in rows}
    touched: list[District] = []
    for b in boundaries:
        district = existing.get(b.code)
        if b.repaired:
            result.repaired.append(b.code)
        if district is None:
            district = District(kind=kind, code=b.code, name=b.name)
            db.session.add(district)
            result.added.append(b.code)
        elif (
            not district.retired
            and district.name == b.name
            and to_shape(district.geom).equals(b.geometry)
        ):
            result.unchanged.append(b.code)
            continue
        else:
            (result.added if district.retired else result.changed).append(b.code)
        district.name, district.retired = b.name, False
        district.geom = from_shape(b.geometry, srid=4326)
        touched.append(district)
    db.session.flush()
    split_districts([d.id for d in touched])
    codes = {b.code for b in boundaries}
    gone = [d for code, d in existing.items() if code not in codes and not d.retired]
    result.removed = sorted((d.code for d in gone), key=code_order)
    # no routing pieces: from here on nothing can be tagged with a removed district
    db.session.execute(
        delete(DistrictPart).where(DistrictPart.district_id.in_([d.id for d in gone]))
    )
    if result.routing:
        row = db.session.execute(_RETAG, {"kind": kind}).one()
        result.moved, result.outside = row.moved, row.outside
    for district in gone:
        # closed requests keep the district they were counted in: keep it, retired
        named = db.session.scalar(_NAMED, {"id": district.id})
        if named:
            district.retired = True
        else:
            db.session.delete(district)  # its routing rules go with it (ON DELETE CASCADE)
    db.session.flush()


def replace_districts(
    kind: str, boundaries: list[Boundary], *, apply: bool = True, source: str = ""
) -> Replacement:
    """Make `boundaries` the districts of `kind`: add, change, remove; re-tag open requests.

    Districts keep their id (and their requests and routing rules) by code. With
    `apply=False` nothing is kept: the answer says what applying would do. Applied, it is
    audited (counts and codes, not geometries); the caller commits.

    :raises DomainError: a bad kind, no districts, or open requests that would be left
        outside every district of the routing kind (400); then nothing is changed.
    """
    kind = check_kind(kind)
    if not boundaries:
        raise DomainError("The file has no districts: nothing to load.", field="file")
    result = Replacement(kind=kind, routing=kind == routing_kind())
    boundaries = sorted(boundaries, key=lambda b: code_order(b.code))
    before = _summary_of(kind)
    savepoint = db.session.begin_nested()
    try:
        _write(kind, boundaries, result)
    except Exception:
        savepoint.rollback()
        raise
    if not apply or result.outside:
        savepoint.rollback()
        if apply:
            raise DomainError(
                f"Nothing was changed: {result.outside} open request"
                f"{' would' if result.outside == 1 else 's would'} be outside every {kind} "
                "with these boundaries. Upload a file that covers the whole city.",
                field="file",
                outside=result.outside,
            )
        return result
    savepoint.commit()
    result.applied = True
    audit.record(
        None,
        "replace",
        ("districts", kind, f"{kind} boundaries"),
        before,
        {**result.summary(), "source": source[:200]},
    )
    return result


def _summary_of(kind: str) -> dict[str, Any]:
    codes = db.session.scalars(
        select(District.code).where(District.kind == kind, District.retired.is_(False))
    )
    return {"districts": sorted(codes, key=code_order)}


_OPEN_BY_DISTRICT = text(
    """
    SELECT d.kind, d.code, d.name, d.retired, count(sr.id) AS open_requests
    FROM districts d
    LEFT JOIN service_requests sr ON sr.district_id = d.id AND sr.status <> 'closed'
    GROUP BY d.id ORDER BY d.kind, d.retired, d.id
    """
)


@dataclass(frozen=True)
class DistrictRow:
    kind: str
    code: str
    name: str
    retired: bool
    open_requests: int


def districts_by_kind() -> dict[str, list[DistrictRow]]:
    """Return every district by kind, codes in reading order, with its open requests."""
    kinds: dict[str, list[DistrictRow]] = {}
    for row in db.session.execute(_OPEN_BY_DISTRICT):
        kinds.setdefault(row.kind, []).append(DistrictRow(*row))
    for rows in kinds.values():
        rows.sort(key=lambda r: (r.retired, code_order(r.code)))
    return kinds


def open_requests_without_district() -> int:
    """Return how many open requests are in no district (imported ones, location unknown)."""
    return (
        db.session.scalar(
            text(
                "SELECT count(*) FROM service_requests "
                "WHERE status <> 'closed' AND district_id IS NULL"
            )
        )
        or 0
    )

"""The open backlog as of now: per group, by age, and as map points.

Read live from the open requests only (a small, partially indexed share of the table),
so it needs no rollup and is never stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from app.extensions import db
from app.metrics.filters import Filters

#: age buckets of the open backlog, in whole days since the request was made
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0–2 days", 0, 3),
    ("3–7 days", 3, 8),
    ("8–30 days", 8, 31),
    ("31–90 days", 31, 91),
    ("over 90 days", 91, None),
)
_OPEN = "status <> 'closed'"


def open_by_group(f: Filters, key_sql: str) -> dict[Any, tuple[int, int]]:
    """Return group key → (open now, open and overdue now), under the filters."""
    conditions, params = f.sql()
    sql = (
        f"SELECT {key_sql} AS k, count(*) AS open, count(*) FILTER (WHERE due_at < now())"
        f" AS overdue FROM service_requests WHERE {_OPEN}{conditions} GROUP BY 1"
    )
    return {r.k: (int(r.open), int(r.overdue)) for r in db.session.execute(text(sql), params)}


@dataclass(frozen=True)
class AgeBucket:
    label: str
    open: int
    overdue: int


def aging(f: Filters) -> list[AgeBucket]:
    """Return how many open requests (and of them overdue) fall in each age bucket."""
    conditions, params = f.sql()
    cases = " ".join(
        f"WHEN age < {hi} THEN {i}" for i, (_, _, hi) in enumerate(AGE_BUCKETS) if hi is not None
    )
    sql = (
        f"SELECT CASE {cases} ELSE {len(AGE_BUCKETS) - 1} END AS b, count(*) AS open,"
        " count(*) FILTER (WHERE overdue) AS overdue FROM ("
        "  SELECT EXTRACT(EPOCH FROM (now() - requested_at)) / 86400 AS age,"
        "         due_at < now() AS overdue"
        f"  FROM service_requests WHERE {_OPEN}{conditions}) AS o GROUP BY 1"
    )
    counts = {r.b: (int(r.open), int(r.overdue)) for r in db.session.execute(text(sql), params)}
    return [AgeBucket(label, *counts.get(i, (0, 0))) for i, (label, _, _) in enumerate(AGE_BUCKETS)]


@dataclass(frozen=True)
class Point:
    """One open request on the map: where, its type, and whether it is overdue. No person."""

    id: int
    lat: float
    long: float
    service_type: str
    overdue: bool


def points(f: Filters, limit: int) -> tuple[list[Point], int]:
    """Return up to `limit` located open requests, most overdue first, and how many are open."""
    conditions, params = f.sql("sr")
    params["limit"] = limit
    # the first `limit` by due time walk ix_service_requests_open_metrics in order; the
    # count reads the same index alone
    sql = (
        "SELECT sr.id, ST_Y(sr.location) AS lat, ST_X(sr.location) AS long, st.name AS type,"
        " sr.due_at < now() AS overdue"
        " FROM service_requests sr JOIN service_types st ON st.id = sr.service_type_id"
        # imported history with its location unknown has no place on the map
        f" WHERE sr.status <> 'closed' AND sr.location IS NOT NULL{conditions}"
        " ORDER BY sr.due_at LIMIT :limit"
    )
    rows = db.session.execute(text(sql), params).all()
    total = db.session.execute(
        text(f"SELECT count(*) FROM service_requests sr WHERE sr.status <> 'closed'{conditions}"),
        params,
    ).scalar()
    return [Point(r.id, r.lat, r.long, r.type, bool(r.overdue)) for r in rows], int(total or 0)

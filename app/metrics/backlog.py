"""The open backlog as of now: per group, by age, and as map points. Exact and live.

An open count never reads every open request: how many are open under any filter comes
from metrics_open_counts and its deltas (kept in step by triggers, open_counts.py); only
the requests the answer depends on in detail are read, from partial indexes on the open
requests: those made in the last 91 days (for the age buckets below "over 90 days") and
those not yet due (overdue = open - not yet due). Both sets grow with the city's recent
intake, not with its history, while the old open backlog is counted without reading it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from app.extensions import db
from app.metrics.filters import Filters
from app.metrics.open_counts import OPEN_COUNTS

#: age buckets of the open backlog, in whole days since the request was made
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0–2 days", 0, 3),
    ("3–7 days", 3, 8),
    ("8–30 days", 8, 31),
    ("31–90 days", 31, 91),
    ("over 90 days", 91, None),
)
_OPEN = "status <> 'closed'"
_NOT_DUE = f"{_OPEN} AND due_at >= now()"


def open_by_group(f: Filters, key_sql: str) -> dict[Any, tuple[int, int]]:
    """Return group key → (open now, open and overdue now), under the filters."""
    conditions, params = f.sql()
    # overdue = open - not yet due (due_at is never null), the latter a range of
    # ix_service_requests_open_metrics
    sql = (
        "SELECT k, sum(open) AS open, sum(not_due) AS not_due FROM ("
        f" SELECT {key_sql} AS k, n AS open, 0 AS not_due FROM {OPEN_COUNTS}"
        f"  WHERE true{conditions}"
        f" UNION ALL SELECT {key_sql}, 0, 1 FROM service_requests WHERE {_NOT_DUE}{conditions}"
        ") AS o GROUP BY k"
    )
    out = {}
    for r in db.session.execute(text(sql), params):
        if r.open:
            out[r.k] = (int(r.open), int(r.open) - int(r.not_due))
    return out


@dataclass(frozen=True)
class AgeBucket:
    label: str
    open: int
    overdue: int


def _cutoff(days: int) -> str:
    return f"now() - interval '{days} days'"


def aging(f: Filters) -> list[AgeBucket]:
    """Return how many open requests (and of them overdue) fall in each age bucket."""
    conditions, params = f.sql()
    # each young bucket is a range of ix_service_requests_open_requested, counted from the
    # index alone (a CASE over every row, then a hash, cost several times more per row)
    parts = []
    for i, (_, lo, hi) in enumerate(AGE_BUCKETS[:-1]):
        assert hi is not None
        within = f"requested_at > {_cutoff(hi)}" + (
            f" AND requested_at <= {_cutoff(lo)}" if lo else ""
        )
        parts.append(
            f"SELECT {i} AS b, count(*) AS open, count(*) FILTER (WHERE due_at < now())"
            f" AS overdue FROM service_requests WHERE {_OPEN} AND {within}{conditions}"
        )
    old = _cutoff(AGE_BUCKETS[-1][1])
    # the oldest bucket is what the counts hold beyond the young ones, and its overdue
    # requests all those of it not yet due
    parts.append(f"SELECT -1, sum(n), 0 FROM {OPEN_COUNTS} WHERE true{conditions}")
    parts.append(
        "SELECT -2, count(*), 0 FROM service_requests"
        f" WHERE {_NOT_DUE} AND requested_at <= {old}{conditions}"
    )
    rows = {
        r.b: (int(r.open or 0), int(r.overdue or 0))
        for r in db.session.execute(text(" UNION ALL ".join(parts)), params)
    }
    young = [rows[i] for i in range(len(AGE_BUCKETS) - 1)]
    old_open = rows[-1][0] - sum(o for o, _ in young)
    out = [AgeBucket(label, *young[i]) for i, (label, _, _) in enumerate(AGE_BUCKETS[:-1])]
    out.append(AgeBucket(AGE_BUCKETS[-1][0], old_open, old_open - rows[-2][0]))
    return out


def open_total(f: Filters) -> int:
    """Return how many requests are open now under the filters."""
    conditions, params = f.sql()
    sql = f"SELECT COALESCE(sum(n), 0) FROM {OPEN_COUNTS} WHERE true{conditions}"
    return int(db.session.execute(text(sql), params).scalar() or 0)


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
    # the first `limit` by due time walk ix_service_requests_open_metrics in order
    sql = (
        "SELECT sr.id, ST_Y(sr.location) AS lat, ST_X(sr.location) AS long, st.name AS type,"
        " sr.due_at < now() AS overdue"
        " FROM service_requests sr JOIN service_types st ON st.id = sr.service_type_id"
        # imported history with its location unknown has no place on the map
        f" WHERE sr.status <> 'closed' AND sr.location IS NOT NULL{conditions}"
        " ORDER BY sr.due_at LIMIT :limit"
    )
    rows = db.session.execute(text(sql), params).all()
    total = open_total(f)
    return [Point(r.id, r.lat, r.long, r.type, bool(r.overdue)) for r in rows], total

"""Address search as people type: the gazetteer's addresses and intersections, typos and all.

Both tables carry pg_trgm GIN indexes on their matching forms, so a prefix ("12 elm") and a
misspelling ("elm stret") are found by the index, not by reading the whole city. A query
naming two streets ("Main St & Broad St", "main and broad") searches the intersections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import text

from app.core.prepared import PLAN_FOR_EACH_VALUE
from app.extensions import db
from app.geo.gazetteer import normalize_address
from app.geo.routing import covering_district_sql, routing_kind

#: the most suggestions one search returns
MAX_RESULTS = 10
#: how alike (pg_trgm word_similarity, 0 to 1) a typed text and a gazetteer entry must be:
#: low enough for one typo in a short word ("stret"), high enough to keep noise out
SIMILARITY = 0.45
#: what joins two street names in "A St & B St", "A St and B St", "A St at B St", "A/B"
_JOIN = re.compile(r"\s*(?:&|\+|/|@|\band\b|\bat\b)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Place:
    """One suggestion: what to show, where to put the pin, and which district it is in."""

    label: str
    lat: float
    long: float
    district: str | None
    kind: str  # "address" or "intersection"
    address_id: str | None = None


def _district(point: str) -> str:
    return f"(SELECT name FROM ({covering_district_sql(point, ':kind')}) AS covering)"


_ADDRESSES = text(
    f"""
    SELECT a.address, ST_Y(a.geom), ST_X(a.geom), {_district("a.geom")}, a.address_id
    FROM addresses a
    WHERE a.normalized LIKE :prefix OR :q <% a.normalized
    ORDER BY a.normalized LIKE :prefix DESC, word_similarity(:q, a.normalized) DESC,
             length(a.normalized), a.normalized
    LIMIT :limit
    """
)

_INTERSECTIONS = text(
    f"""
    SELECT i.street_a || ' & ' || i.street_b, ST_Y(i.geom), ST_X(i.geom), {_district("i.geom")}
    FROM intersections i
    WHERE (:a <% i.normalized_a AND :b <% i.normalized_b)
       OR (:a <% i.normalized_b AND :b <% i.normalized_a)
    ORDER BY greatest(
        word_similarity(:a, i.normalized_a) + word_similarity(:b, i.normalized_b),
        word_similarity(:a, i.normalized_b) + word_similarity(:b, i.normalized_a)
    ) DESC, i.normalized_a, i.normalized_b
    LIMIT :limit
    """
)


def _streets(query: str) -> tuple[str, str] | None:
    """Return the two street names a query joins with "&", "and", "at" or "/", if it does."""
    parts = [normalize_address(p) for p in _JOIN.split(query, maxsplit=1)]
    if len(parts) == 2 and all(parts):
        return parts[0], parts[1]
    return None


def search(query: str, *, limit: int = MAX_RESULTS) -> list[Place]:
    """Return gazetteer places matching a typed address or intersection, best first.

    Fewer than three letters or digits find nothing: they would match half the city.
    """
    q = normalize_address(query)
    if len(q.replace(" ", "")) < 3:
        return []
    limit = max(1, min(limit, MAX_RESULTS))
    # for this transaction only: the threshold of the <% operator, and plans made for the
    # typed text (a plan made once for any text may read the whole gazetteer's index)
    db.session.execute(
        text(
            "SELECT set_config('pg_trgm.word_similarity_threshold', :t, true),"
            f" {PLAN_FOR_EACH_VALUE}"
        ),
        {"t": str(SIMILARITY)},
    )
    places: list[Place] = []
    streets = _streets(query)
    if streets:
        rows = db.session.execute(
            _INTERSECTIONS,
            {"a": streets[0], "b": streets[1], "kind": routing_kind(), "limit": limit},
        )
        places += [Place(r[0], r[1], r[2], r[3], "intersection") for r in rows]
    if len(places) < limit:
        rows = db.session.execute(
            _ADDRESSES,
            {"q": q, "prefix": _like_prefix(q), "kind": routing_kind(), "limit": limit},
        )
        places += [Place(r[0], r[1], r[2], r[3], "address", r[4]) for r in rows]
    return places[:limit]


def _like_prefix(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"

"""Likely duplicates: open requests of the same type reported close by, not long before or after.

Residents report the same pothole many times. Staff see the likely duplicates of a request on
its page and in the queue, and merge them so one crew visit answers every reporter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from flask import current_app
from sqlalchemy import text

from app.core.clock import utcnow
from app.extensions import db
from app.requests.models import ServiceRequest

# Geography casts make the radius metres on the ground; the GiST index on location narrows
# the search first through the ST_DWithin on geometry with a degree bound (1 degree of
# latitude is about 111 km, so radius/100000 degrees safely covers `radius` metres).
# `o` is a likely duplicate of `s`: same type, still open, near, reported close in time.
# `s` is a stored request, or (find_near) the report a resident is about to send.
_LIKELY = """
    JOIN service_requests o
      ON o.service_type_id = s.service_type_id
     AND o.id <> s.id
     AND o.status <> 'closed'
     AND ST_DWithin(o.location, s.location, :radius_m / 100000.0)
     AND ST_DWithin(o.location::geography, s.location::geography, :radius_m)
     AND o.requested_at BETWEEN s.requested_at - :window AND s.requested_at + :window
"""
_NEAR_POINT = text(
    f"""
    WITH s AS (
        SELECT st.id AS service_type_id, 0 AS id, :now AS requested_at,
               ST_SetSRID(ST_MakePoint(:long, :lat), 4326) AS location
        FROM service_types st WHERE st.code = :code AND st.active
    )
    SELECT o.id, ST_Distance(o.location::geography, s.location::geography) FROM s {_LIKELY}
    ORDER BY 2, o.id
    LIMIT :limit
    """
)
_CANDIDATES = text(
    f"""
    SELECT o.id FROM service_requests s {_LIKELY}
    WHERE s.id = :id
    ORDER BY ST_Distance(o.location::geography, s.location::geography), o.id
    LIMIT :limit
    """
)
_COUNTS = text(
    f"SELECT s.id, count(o.id) FROM service_requests s {_LIKELY} "
    "WHERE s.id = ANY(:ids) GROUP BY s.id"
)


def _params() -> dict[str, object]:
    return {
        "radius_m": float(current_app.config["DUPLICATE_RADIUS_METRES"]),
        "window": timedelta(days=float(current_app.config["DUPLICATE_WINDOW_DAYS"])),
    }


def find_candidates(
    sr: ServiceRequest, *, radius_m: float | None = None, limit: int = 20
) -> list[ServiceRequest]:
    """Return open requests of the same type near `sr` and reported close in time, nearest first."""
    params = {**_params(), "id": sr.id, "limit": limit}
    if radius_m is not None:
        params["radius_m"] = float(radius_m)
    ids = list(db.session.scalars(_CANDIDATES, params))
    if not ids:
        return []
    found = {
        r.id: r
        for r in db.session.scalars(db.select(ServiceRequest).where(ServiceRequest.id.in_(ids)))
    }
    return [found[i] for i in ids if i in found]


def find_near(
    service_code: str, lat: float, long: float, *, limit: int = 10
) -> list[tuple[ServiceRequest, float]]:
    """Return the open requests a report of this type at this point would likely duplicate.

    Each comes with its distance in metres, nearest first: what a resident is shown before
    sending ("is it one of these?"). An unknown or inactive type has none.
    """
    params = {**_params(), "code": service_code, "lat": lat, "long": long}
    rows = db.session.execute(_NEAR_POINT, {**params, "now": utcnow(), "limit": limit}).all()
    if not rows:
        return []
    found = {
        r.id: r
        for r in db.session.scalars(
            db.select(ServiceRequest).where(ServiceRequest.id.in_([row[0] for row in rows]))
        )
    }
    return [(found[rid], float(metres)) for rid, metres in rows if rid in found]


def candidate_counts(request_ids: Sequence[int]) -> dict[int, int]:
    """Return, for each of these requests that has any, how many likely duplicates it has."""
    if not request_ids:
        return {}
    rows = db.session.execute(_COUNTS, {**_params(), "ids": list(request_ids)})
    return {int(rid): int(n) for rid, n in rows}


_DISTANCES = text(
    """
    SELECT o.id, ST_Distance(o.location::geography, s.location::geography)
    FROM service_requests s, service_requests o
    WHERE s.id = :id AND o.id = ANY(:ids)
    """
)


def distances(sr: ServiceRequest, others: Sequence[ServiceRequest]) -> dict[int, float]:
    """Return the distance on the ground, in metres, from `sr` to each of `others`."""
    if not others:
        return {}
    rows = db.session.execute(_DISTANCES, {"id": sr.id, "ids": [o.id for o in others]})
    return {int(oid): float(metres) for oid, metres in rows}

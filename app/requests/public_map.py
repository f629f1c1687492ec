"""The public map's data: recent requests as GeoJSON points, with nothing about reporters.

Types an admin marks sensitive are shown where `geo.privacy.public_point` puts them, as on
every other public page; history whose location is unknown is not on the map.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text

from app.extensions import db
from app.geo.privacy import public_point
from app.requests.models import OPEN_STATUSES
from app.requests.presenters import tracking_url

#: the most points one page of the map's data holds
MAX_FEATURES = 500


@dataclass(frozen=True)
class MapRow:
    id: int
    service_code: str
    service_name: str
    status: str
    requested_at: datetime
    lat: float
    long: float
    sensitive: bool


_RECENT = """
    SELECT r.id, st.code, st.name, r.status, r.requested_at,
           ST_Y(r.location), ST_X(r.location), st.sensitive
    FROM service_requests r JOIN service_types st ON st.id = r.service_type_id
    WHERE r.requested_at >= :since AND r.location IS NOT NULL
      AND (CAST(:code AS text) IS NULL OR st.code = :code)
      AND (CAST(:before_id AS bigint) IS NULL OR r.id < :before_id)
      AND {status}
    ORDER BY r.id DESC
    LIMIT :limit
"""


def recent(
    *,
    since: datetime,
    service_code: str | None,
    status: str | None,
    limit: int,
    before_id: int | None,
) -> list[MapRow]:
    """Return requests reported since `since`, newest first, filtered by type and status.

    `status` is one status, "open" (any but closed), or None (all).
    """
    params: dict[str, Any] = {
        "since": since,
        "code": service_code or None,
        "before_id": before_id,
        "limit": max(1, min(limit, MAX_FEATURES)),
    }
    if status == "open":
        clause, params["statuses"] = "r.status = ANY(:statuses)", list(OPEN_STATUSES)
    elif status:
        clause, params["status"] = "r.status = :status", status
    else:
        clause = "true"
    rows = db.session.execute(text(_RECENT.format(status=clause)), params)
    return [MapRow(*row) for row in rows]


def feature(row: MapRow) -> dict[str, Any]:
    """Return one request as a GeoJSON Feature for the public map."""
    lat, long = public_point(row.lat, row.long, sensitive=row.sensitive)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [long, lat]},
        "properties": {
            "id": row.id,
            "service": {"code": row.service_code, "name": row.service_name},
            "status": row.status,
            "requested_at": row.requested_at,
            "url": tracking_url(row.id),
        },
    }

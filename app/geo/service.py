"""Domain verbs for districts: the one way their rows are made."""

from __future__ import annotations

import json
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select, text

from app.core.errors import Conflict, DomainError
from app.extensions import db
from app.geo.boundaries import district_area
from app.geo.models import District


def create_district(kind: str, code: str, name: str, geometry: BaseGeometry | Any) -> District:
    """Add a district from a shapely Polygon or MultiPolygon (WGS 84 longitude/latitude).

    :raises DomainError: empty kind, code or name, or a geometry that is not a valid area.
    :raises Conflict: this kind already has a district with this code (409).
    """
    kind, code, name = (kind or "").strip(), (code or "").strip(), (name or "").strip()
    for field, value, limit in (("kind", kind, 40), ("code", code, 40), ("name", name, 200)):
        if not value or len(value) > limit:
            raise DomainError(f"A district {field} has 1 to {limit} characters.", field=field)
    geometry, _ = district_area(geometry, code)
    taken = db.session.scalar(
        select(District.id).where(District.kind == kind, District.code == code)
    )
    if taken is not None:
        raise Conflict(f"There is already a {kind} {code!r}.", field="code")
    district = District(kind=kind, code=code, name=name, geom=from_shape(geometry, srid=4326))
    db.session.add(district)
    db.session.flush()
    split_districts([district.id])
    return district


#: at most this many vertices per piece: a point test then reads a few dozen, not hundreds
PART_VERTICES = 64

_SPLIT = text(
    """
    WITH gone AS (DELETE FROM district_parts WHERE district_id = ANY(:ids))
    INSERT INTO district_parts (district_id, kind, geom)
    SELECT d.id, d.kind, ST_Subdivide(d.geom, :vertices)
    FROM districts d WHERE d.id = ANY(:ids)
    """
)


def split_districts(ids: list[int]) -> None:
    """Rebuild the routing pieces of these districts from their polygons (flushed, not committed).

    Call it after any write of a district's polygon or kind, or routing goes by the old one.
    """
    db.session.execute(_SPLIT, {"ids": ids, "vertices": PART_VERTICES})


#: degrees (about 10 m): outlines drawn on a city map need no finer detail
OUTLINE_TOLERANCE = 0.0001

_OUTLINES = text(
    """
    SELECT code, name, ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, :tolerance), 6)
    FROM districts WHERE kind = :kind AND NOT retired ORDER BY code
    """
)


def district_outlines(kind: str) -> dict[str, Any]:
    """Return the districts of `kind` as a GeoJSON FeatureCollection, simplified for a map."""
    rows = db.session.execute(_OUTLINES, {"kind": kind, "tolerance": OUTLINE_TOLERANCE})
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": json.loads(geometry),
                "properties": {"code": code, "name": name},
            }
            for code, name, geometry in rows
        ],
    }

"""District routing: which district of the routing kind a point falls in, as SQL to embed.

Intake and the bulk importer both tag requests with a district inside larger statements (one
round trip on the hot path, one set-based UPDATE for an import), so the rule lives here as a
SQL fragment rather than a Python call.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import text

from app.extensions import db


def routing_kind() -> str:
    """Return the district kind that defines the jurisdiction and tags each request."""
    return str(current_app.config["ROUTING_DISTRICT_KIND"])


#: degrees (about 0.1 mm): a point this close to a piece's edge is tested on the whole polygon
_EDGE = "1e-9"


def covering_district_sql(point: str, kind: str) -> str:
    """Return a SELECT of (id, code, name) of the district of kind `kind` that covers `point`.

    `point` and `kind` are SQL expressions (a column, a bind parameter). Where districts
    overlap, the first by id wins, so intake and imports always agree.

    The test reads the subdivided pieces (district_parts), a few dozen vertices each instead
    of a ward's hundreds. Cutting moves edges by rounding errors, so a point on or next to a
    piece's edge (a ward's border, a cut line) is decided by the whole polygon as before:
    the answer is exactly the whole polygons' one.
    """
    return (
        "SELECT d.id, d.code, d.name FROM districts d WHERE d.id = ("
        "SELECT p.district_id FROM district_parts p "
        f"WHERE p.kind = {kind} AND ST_DWithin(p.geom, {point}, {_EDGE}) "
        f"AND (NOT ST_DWithin(ST_Boundary(p.geom), {point}, {_EDGE}) OR ST_Covers("
        f"(SELECT w.geom FROM districts w WHERE w.id = p.district_id), {point})) "
        "ORDER BY p.district_id LIMIT 1)"
    )


_MAP_FRAME = text(
    """
    SELECT ST_Y(c) AS lat, ST_X(c) AS long,
           ST_XMin(e) AS west, ST_YMin(e) AS south, ST_XMax(e) AS east, ST_YMax(e) AS north
    FROM (
        SELECT ST_Centroid(ST_Collect(geom)) AS c, ST_Extent(geom)::box3d AS e
        FROM districts WHERE kind = :kind AND NOT retired
    ) AS frame
    """
)


def map_frame() -> dict[str, Any]:
    """Return a map's starting view: the centroid and extent of the city's districts.

    With no districts loaded yet, show the whole world rather than fail.
    """
    row = db.session.execute(_MAP_FRAME, {"kind": routing_kind()}).one()
    if row.lat is None:
        return {"lat": 0.0, "long": 0.0, "zoom": 2, "bounds": None}
    return {
        "lat": row.lat,
        "long": row.long,
        "zoom": 13,
        "bounds": [[row.south, row.west], [row.north, row.east]],
    }

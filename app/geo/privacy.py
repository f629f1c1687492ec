"""Location privacy: where a request of a sensitive type is shown in anything published.

One rule for every public view (tracking page, public API, Open311, open data): the point is
replaced by the centre of its cell on a grid of PUBLIC_LOCATION_GRID_METRES, so nearby
requests share one published point and none can be traced to a doorstep.
"""

from __future__ import annotations

import math

from flask import current_app

#: metres in one degree of latitude (and of longitude at the equator)
_METRES_PER_DEGREE = 111_320.0


def snap_to_grid(lat: float, long: float, metres: float) -> tuple[float, float]:
    """Return the centre of the grid cell of about `metres` × `metres` holding the point.

    Rows are `metres` of latitude; each row's columns are `metres` wide at the row's centre,
    so every point of a cell gets the same answer, wherever it is in the cell.
    """
    if metres <= 0:
        return lat, long
    lat_step = metres / _METRES_PER_DEGREE
    row_lat = (math.floor(lat / lat_step) + 0.5) * lat_step
    row_lat = max(-90.0, min(90.0, row_lat))
    long_step = metres / (_METRES_PER_DEGREE * max(math.cos(math.radians(row_lat)), 1e-6))
    cell_long = (math.floor(long / long_step) + 0.5) * long_step
    return round(row_lat, 6), round(max(-180.0, min(180.0, cell_long)), 6)


def public_point(
    lat: float | None, long: float | None, *, sensitive: bool
) -> tuple[float, float] | tuple[None, None]:
    """Return the point to publish: generalised for a sensitive type, exact otherwise.

    Imported history may have no location (None, None): it stays unknown.
    """
    if lat is None or long is None:
        return None, None
    if not sensitive:
        return lat, long
    return snap_to_grid(lat, long, float(current_app.config["PUBLIC_LOCATION_GRID_METRES"]))


def public_point_sql(lat: str, long: str, sensitive: str) -> str:
    """Return a SELECT of (lat, long) to publish: public_point in SQL, for a LATERAL join.

    The same arithmetic as snap_to_grid on the same doubles, so both publish the same point.
    `lat`, `long` and `sensitive` are column expressions; the statement takes the grid as
    :grid_metres (public_point_params).
    """
    snapped_lat = "greatest(-90.0, least(90.0, (floor({lat} / s.step) + 0.5) * s.step))"
    return (
        "SELECT CASE WHEN g.snap THEN round(g.row_lat::numeric, 6)::float8"
        f" ELSE {lat} END AS lat,"
        " CASE WHEN g.snap THEN round(greatest(-180.0, least(180.0,"
        f" (floor({long} / g.long_step) + 0.5) * g.long_step))::numeric, 6)::float8"
        f" ELSE {long} END AS long"
        " FROM (SELECT r.snap, r.row_lat, CASE WHEN r.snap THEN CAST(:grid_metres AS float8)"
        " / (111320.0 * greatest(cos(radians(r.row_lat)), 1e-6)) END AS long_step"
        f" FROM (SELECT s.snap, CASE WHEN s.snap THEN {snapped_lat.format(lat=lat)} END AS row_lat"
        f" FROM (SELECT ({sensitive} AND CAST(:grid_metres AS float8) > 0"
        f" AND {lat} IS NOT NULL) AS snap,"
        " CAST(:grid_metres AS float8) / 111320.0 AS step) s) r) g"
    )


def public_point_params() -> dict[str, float]:
    return {"grid_metres": float(current_app.config["PUBLIC_LOCATION_GRID_METRES"])}

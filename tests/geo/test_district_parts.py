"""Routing by the subdivided district pieces gives the same district as the whole polygons."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
from shapely.geometry import Polygon, box, shape
from sqlalchemy import text

from app.extensions import db
from app.geo import service as geo
from app.geo.routing import covering_district_sql
from app.requests.intake import NewRequest, submit_request

BOSTON_WARDS = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "data"
    / "boston_boundaries"
    / "boston_wards.geojson"
)

# the rule as it was before the pieces: the whole polygons, first district by id
_WHOLE = text(
    "SELECT d.id FROM districts d WHERE d.kind = :kind "
    "AND ST_Covers(d.geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) ORDER BY d.id LIMIT 1"
)
_PARTS = text(
    f"SELECT id FROM ({covering_district_sql('ST_SetSRID(ST_MakePoint(:x, :y), 4326)', ':kind')}) c"
)


def _jagged_wards() -> tuple[Polygon, Polygon]:
    """Two wards sharing a 400-vertex zig-zag border: far more than one piece's vertices."""
    border = [
        (-71.05 + 0.004 * math.sin(i / 7) + 0.001 * (i % 3), 42.30 + i * 0.05 / 399)
        for i in range(400)
    ]
    west = Polygon([(-71.10, 42.30), *border, (-71.10, 42.35)])
    east = Polygon([*border, (-71.00, 42.35), (-71.00, 42.30)])
    return west, east


def _routes(kind: str, points: list[tuple[float, float]]) -> list[tuple[int | None, int | None]]:
    out = []
    for x, y in points:
        params = {"kind": kind, "x": x, "y": y}
        out.append((db.session.scalar(_WHOLE, params), db.session.scalar(_PARTS, params)))
    return out


def _border_points(polygon: Polygon) -> list[tuple[float, float]]:
    """Every vertex of the ring and the midpoint of every edge."""
    coords = list(polygon.exterior.coords)
    mids = [
        ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2) for a, b in zip(coords, coords[1:], strict=False)
    ]
    return coords + mids


def test_pieces_route_every_point_as_the_whole_polygons(db_session) -> None:
    west, east = _jagged_wards()
    first = geo.create_district("zone", "W", "West", west)
    second = geo.create_district("zone", "E", "East", east)
    # overlaps both: the first district by id still wins where they overlap
    geo.create_district("zone", "O", "Overlap", box(-71.06, 42.31, -71.04, 42.33))
    pieces = db.session.scalar(text("SELECT count(*) FROM district_parts WHERE kind = 'zone'"))
    assert pieces > 3  # the wards really were split

    rng = random.Random(13)
    points = [(rng.uniform(-71.11, -70.99), rng.uniform(42.29, 42.36)) for _ in range(1500)]
    points += _border_points(west)  # the shared border, its vertices and edge midpoints
    routes = _routes("zone", points)
    assert [whole for whole, _ in routes] == [part for _, part in routes]
    found = {whole for whole, _ in routes}
    assert {first.id, second.id, None} <= found  # inside each, and outside every one


@pytest.mark.skipif(not BOSTON_WARDS.exists(), reason="Boston wards not in ../shared/data")
def test_pieces_route_boston_as_the_whole_wards(db_session) -> None:
    features = json.loads(BOSTON_WARDS.read_text())["features"]
    for feature in features:
        code = str(feature["properties"]["WARD"])
        geo.create_district("bward", code, f"Ward {code}", shape(feature["geometry"]))
    rng = random.Random(7)
    points = [(rng.uniform(-71.20, -70.98), rng.uniform(42.22, 42.40)) for _ in range(1500)]
    for feature in features[:6]:
        polygon = shape(feature["geometry"])
        for part in getattr(polygon, "geoms", [polygon]):
            points += _border_points(part)[::3]
    routes = _routes("bward", points)
    assert [whole for whole, _ in routes] == [part for _, part in routes]


_MOVE = text(
    "UPDATE districts SET geom = ST_Multi(ST_MakeEnvelope(:west, :south, :east, :north, 4326)) "
    "WHERE id = :id"
)


def test_intake_and_replacement_use_the_pieces(city, db_session) -> None:
    """A district's pieces follow its polygon: rewrite it, split again, and intake follows."""
    point = NewRequest("pothole", "Hole", lat=42.32, long=-71.07)
    assert submit_request(point, channel="web").district_code == "1"
    far = {"west": -71.2, "south": 42.2, "east": -71.11, "north": 42.29}
    db.session.execute(_MOVE, {"id": city.ward1.id, **far})
    geo.split_districts([city.ward1.id])
    whole = {"west": -71.1, "south": 42.3, "east": -71.0, "north": 42.35}
    db.session.execute(_MOVE, {"id": city.ward2.id, **whole})
    geo.split_districts([city.ward2.id])
    assert submit_request(point, channel="web").district_code == "2"

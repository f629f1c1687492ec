"""The built-in demo city's gazetteer: a street grid over Riverton's wards, numbered.

Streets running east-west are "avenues of latitude", those running north-south "of
longitude"; every crossing inside the city is an intersection, and each street has a
numbered address every ~70 m, odd on one side and even on the other. The names are the
ones the demo's sample reports use, so "Main St & Broad St" is a place that exists.
"""

from __future__ import annotations

import json
from pathlib import Path

from shapely.geometry import Point, shape
from shapely.ops import unary_union

from app.geo.gazetteer import Crossing, Located

#: east-west streets and their latitude
EAST_WEST = [
    ("Bank Avenue", 39.9985),
    ("Broad Street", 40.0030),
    ("Fulton Street", 40.0075),
    ("Thomas Avenue", 40.0120),
    ("Lippincott Avenue", 40.0165),
    ("Cinnaminson Street", 40.0205),
]
#: north-south streets and their longitude
NORTH_SOUTH = [
    ("Howard Street", -75.0350),
    ("Main Street", -75.0290),
    ("Elm Street", -75.0230),
    ("Penn Street", -75.0170),
    ("2nd Street", -75.0110),
    ("4th Street", -75.0050),
    ("5th Street", -74.9990),
    ("Linden Avenue", -74.9940),
]
#: degrees between two numbered addresses along a street (about 70 m)
STEP = 0.0008


def _city(wards_file: Path) -> object:
    features = json.loads(wards_file.read_text())["features"]
    return unary_union([shape(f["geometry"]) for f in features])


def build(wards_file: Path) -> tuple[list[Located], list[Crossing]]:
    """Return the demo's addresses and intersections, all inside the wards of `wards_file`."""
    city = _city(wards_file)
    addresses: list[Located] = []

    def add(street: str, code: str, number: int, lat: float, long: float) -> None:
        if city.contains(Point(long, lat)):  # type: ignore[attr-defined]
            label = f"{number} {street}"
            addresses.append(Located(f"RIV-{code}-{number}", label, round(lat, 6), round(long, 6)))

    for street, lat in EAST_WEST:
        code = street.split()[0].upper()
        long, n = -75.0400, 1
        while long < -74.9900:
            add(street, code, 2 * n, lat + 0.00008, long)  # even numbers on the north side
            add(street, code, 2 * n + 1, lat - 0.00008, long)
            long += STEP
            n += 1
    for street, long in NORTH_SOUTH:
        code = street.split()[0].upper()
        lat, n = 39.9950, 1
        while lat < 40.0250:
            add(street, code, 2 * n, lat, long + 0.0001)  # even numbers on the east side
            add(street, code, 2 * n + 1, lat, long - 0.0001)
            lat += STEP * 0.8
            n += 1
    crossings = [
        Crossing(a, b, lat, long)
        for a, lat in EAST_WEST
        for b, long in NORTH_SOUTH
        if city.contains(Point(long, lat))  # type: ignore[attr-defined]
    ]
    return addresses, crossings

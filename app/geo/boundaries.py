"""Boundary files: read a GeoJSON file of districts, checked, before anything is written.

The admin upload and `flask import districts` both read files here, so a file is refused
for the same reasons, with the same words, wherever it comes from.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from shapely.errors import GEOSException
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import make_valid

from app.core.errors import DomainError

#: `crs` names meaning WGS 84 longitude/latitude (the only CRS RFC 7946 GeoJSON has)
_WGS84_NAMES = frozenset(
    {
        "urn:ogc:def:crs:ogc:1.3:crs84",
        "urn:ogc:def:crs:ogc::crs84",
        "urn:ogc:def:crs:epsg::4326",
        "urn:ogc:def:crs:epsg:4326",
        "epsg:4326",
        "crs84",
        "wgs84",
    }
)
#: most problems listed in one message; the rest are counted
_SHOWN = 10
_REPROJECT = "reproject it first, e.g. `ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson`"


@dataclass(frozen=True)
class Boundary:
    """One district as a file gives it: its code, name and area (WGS 84 lon/lat)."""

    code: str
    name: str
    geometry: MultiPolygon
    #: the file's polygon was not valid (self-touching rings, …) and was repaired
    repaired: bool = False


def polygonal(geometry: BaseGeometry) -> MultiPolygon:
    """Return the areas of a geometry as one MultiPolygon (dropping stray lines and points)."""
    parts = getattr(geometry, "geoms", [geometry])
    polygons: list[Polygon] = []
    for part in parts:
        if isinstance(part, Polygon):
            polygons.append(part)
        elif isinstance(part, MultiPolygon):
            polygons.extend(part.geoms)
        elif hasattr(part, "geoms"):
            polygons.extend(polygonal(part).geoms)
    return MultiPolygon(polygons)


def district_area(geometry: BaseGeometry | Any, code: str) -> tuple[MultiPolygon, bool]:
    """Return a district's area as a valid MultiPolygon, and whether it had to be repaired.

    Published boundaries often have self-touching rings: they are repaired (make_valid,
    keeping only the areas) rather than refused; one with no area left is refused.

    :raises DomainError: not a polygon, or nothing left of it once repaired (400).
    """
    if isinstance(geometry, Polygon):
        geometry = MultiPolygon([geometry])
    if not isinstance(geometry, MultiPolygon):
        kind_of = getattr(geometry, "geom_type", type(geometry).__name__)
        raise DomainError(
            f"District {code} is a {kind_of}: districts are Polygons or MultiPolygons.",
            field="geometry",
        )
    repaired = False
    if not geometry.is_valid:
        geometry, repaired = polygonal(make_valid(geometry)), True
    if geometry.is_empty or geometry.area == 0:
        raise DomainError(f"District {code}'s polygon has no area.", field="geometry")
    return geometry, repaired


def _crs_name(collection: dict[str, Any]) -> str | None:
    crs = collection.get("crs")
    if not isinstance(crs, dict):
        return None
    properties = crs.get("properties")
    name = properties.get("name") if isinstance(properties, dict) else None
    return str(name) if name else "an unnamed CRS"


def _code(value: Any) -> str:
    """Return a code property as text: 7 and 7.0 (as spreadsheets write it) are both "7"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() if value is not None else ""


def default_name(kind: str, code: str) -> str:
    """Name a district that the file gives no name for: "Ward 7", "Council district 3"."""
    return f"{kind.replace('_', ' ').capitalize()} {code}"


def _in_lon_lat(geometry: BaseGeometry) -> bool:
    west, south, east, north = geometry.bounds
    return all(map(math.isfinite, (west, south, east, north))) and (
        -180 <= west <= east <= 180 and -90 <= south <= north <= 90
    )


def _fail(problems: list[str], what: str, shown_at_most: int = _SHOWN) -> DomainError:
    shown = "; ".join(problems[:shown_at_most])
    more = f"; and {len(problems) - shown_at_most} more" if len(problems) > shown_at_most else ""
    return DomainError(f"Nothing was loaded: {what}: {shown}{more}.", field="file")


def read_boundaries(
    data: bytes | str, *, kind: str, code_property: str, name_property: str = ""
) -> list[Boundary]:
    """Read a GeoJSON FeatureCollection of districts, every feature checked.

    :raises DomainError: not JSON or not a FeatureCollection, a CRS other than WGS 84 or
        coordinates outside longitude/latitude ranges (a projected file), a feature that
        is not a polygon, a missing code property, codes used twice, a polygon with no
        area (400). The message names the features at fault.
    """
    code_property, name_property = code_property.strip(), (name_property or "").strip()
    if not code_property:
        raise DomainError("Name the property that holds each district's code.", field="code")
    try:
        collection = json.loads(data)
    except (ValueError, UnicodeDecodeError) as err:
        raise DomainError(
            f"The file is not JSON ({err}): upload a GeoJSON file.", field="file"
        ) from None
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise DomainError(
            "The file is not a GeoJSON FeatureCollection (its top level needs "
            '"type": "FeatureCollection" and a list of "features").',
            field="file",
        )
    crs = _crs_name(collection)
    if crs is not None and crs.lower() not in _WGS84_NAMES:
        raise DomainError(
            f"The file is in {crs}, not WGS 84 longitude/latitude (EPSG:4326): {_REPROJECT}.",
            field="file",
        )
    features = collection.get("features")
    if not isinstance(features, list) or not features:
        raise DomainError("The file has no features: nothing to load.", field="file")

    if not any(
        isinstance(f, dict)
        and isinstance(f.get("properties"), dict)
        and f["properties"].get(code_property) not in (None, "")
        for f in features
    ):
        first = features[0].get("properties") if isinstance(features[0], dict) else None
        keys = ", ".join(sorted(map(str, first))) if isinstance(first, dict) else "none"
        raise DomainError(
            f"No feature has a {code_property} property; the first feature's properties "
            f"are: {keys}. Choose the code property among them.",
            field="code",
        )
    boundaries: list[Boundary] = []
    problems: list[str] = []
    projected: list[str] = []
    for number, feature in enumerate(features, start=1):
        props = feature.get("properties") if isinstance(feature, dict) else None
        props = props if isinstance(props, dict) else {}
        code = _code(props.get(code_property))
        label = f"feature {number}" + (f" ({code_property} {code})" if code else "")
        geom = feature.get("geometry") if isinstance(feature, dict) else None
        geom_type = geom.get("type") if isinstance(geom, dict) else None
        if not code:
            keys = ", ".join(sorted(map(str, props))) or "none"
            problems.append(f"{label} has no {code_property} (its properties: {keys})")
            continue
        if len(code) > 40:
            problems.append(f"{label}: a code has at most 40 characters")
            continue
        if geom_type not in ("Polygon", "MultiPolygon"):
            what = geom_type or "feature without geometry"
            problems.append(f"{label} is a {what}, not a Polygon or MultiPolygon")
            continue
        try:
            geometry = shape(geom)  # type: ignore[arg-type]  # a dict: checked above
        except (GEOSException, ValueError, TypeError, IndexError, AttributeError):
            problems.append(f"{label} has malformed coordinates")
            continue
        if not _in_lon_lat(geometry):
            x, y = geometry.representative_point().coords[0] if not geometry.is_empty else (0, 0)
            projected.append(f"{label} has coordinates like ({x:.0f}, {y:.0f})")
            continue
        name = str(props.get(name_property) or "").strip() if name_property else ""
        name = (name or default_name(kind, code))[:200]
        try:
            area, repaired = district_area(geometry, code)
        except DomainError as err:
            problems.append(f"{label}: {err.message.rstrip('.')}")
            continue
        boundaries.append(Boundary(code, name, area, repaired))
    if projected:
        raise _fail(
            projected,
            f"the coordinates are not WGS 84 longitude/latitude (outside ±180/±90; a projected "
            f"file such as EPSG:2249 feet?), {_REPROJECT}",
            shown_at_most=3,
        )
    if problems:
        raise _fail(problems, "fix these features")
    codes = [b.code for b in boundaries]
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise DomainError(
            f"Nothing was loaded: each district's code must appear once, and "
            f"{code_property} {', '.join(twice[:_SHOWN])} appear{'s' if len(twice) == 1 else ''} "
            "more than once.",
            field="code",
        )
    return boundaries

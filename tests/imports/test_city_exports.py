"""Each format on the city's own export in ../shared/data, and the Boston 2011 counts checked
against an independent computation over the raw CSV.

The districts come from the cities' boundary files (Kansas City published none: a box around
the city stands in). Skipped, with the reason, where the data is absent.
"""

from __future__ import annotations

import csv
import json
import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from shapely.geometry import Point, box, shape
from shapely.ops import unary_union
from shapely.prepared import prep
from sqlalchemy import text

from app.extensions import db
from app.geo import service as geo
from app.geo.routing import routing_kind
from app.imports.catalogue import DEFAULT_SLA_HOURS
from tests.imports.helpers import counts, run_import

pytestmark = pytest.mark.shared_data

BOSTON_CSV = Path("boston_311_2011") / "311_service_requests_2011.csv"
BOSTON_WARDS = Path("boston_boundaries") / "boston_wards.geojson"
NYC = Path("nyc_311_small_samples")
NYC_DISTRICTS = Path("nyc_boundaries") / "nyc_community_districts.geojson"
KCMO_CSV = Path("kcmo_311_potholes_2020") / "311_Call_Center_Service_Requests_potholes.csv"
LA = Path("la_311_samples")
LA_DISTRICTS = Path("la_boundaries") / "la_city_council_districts_2012.geojson"
BOROUGHS = {"MANHATTAN": 1, "BRONX": 2, "BROOKLYN": 3, "QUEENS": 4, "STATEN ISLAND": 5}


def shared(app: Flask, *paths: Path) -> Path:
    """Return ../shared/data, or skip the test saying which file is missing."""
    root = Path(app.root_path).parent.parent / "shared" / "data"
    for path in paths:
        if not (root / path).exists():
            pytest.skip(f"{path} not found in {root} (needs ../shared/data next to the repo)")
    return root


def load_districts(path: Path, code_key: str) -> list:
    features = json.loads(path.read_text())["features"]
    polygons = []
    for feature in features:
        code = str(feature["properties"][code_key])
        polygon = shape(feature["geometry"])
        geo.create_district(routing_kind(), code, f"District {code}", polygon)
        polygons.append((code, polygon))
    return polygons


def district_codes(source: str) -> dict[str, str | None]:
    """The district code of each imported case (None: location unknown)."""
    rows = db.session.execute(
        text(
            "SELECT sr.external_id, d.code FROM service_requests sr "
            "LEFT JOIN districts d ON d.id = sr.district_id WHERE sr.import_source = :source"
        ),
        {"source": source},
    )
    return {case: code for case, code in rows}


def agreement(pairs: list[tuple[str, str]]) -> float:
    return sum(1 for ours, theirs in pairs if ours == theirs) / len(pairs)


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
        return list(csv.DictReader(fh))


# ---------------------------------------------------------------------------------------------
# Boston 2011: the whole file, fast, and its counts equal to the raw CSV's


def test_boston_2011_imports_fast_and_counts_what_the_city_counted(app, db_session):
    root = shared(app, BOSTON_CSV, BOSTON_WARDS)
    wards = load_districts(root / BOSTON_WARDS, "WARD")
    db.session.commit()

    started = time.monotonic()
    result = run_import(app, root / BOSTON_CSV, "boston")
    seconds = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert seconds < 60, f"the Boston 2011 file took {seconds:.0f} s"
    assert "Read 58251 rows" in result.output and "58251 imported" in result.output

    # the independent computation, over the raw CSV, of what the city counted
    tz = ZoneInfo("America/New_York")
    raw = csv_rows(root / BOSTON_CSV)
    volume: Counter[tuple[str, str]] = Counter()
    closed: Counter[tuple[str, str]] = Counter()
    on_time: Counter[tuple[str, str]] = Counter()
    for row in raw:
        key = (row["department"].strip(), row["open_dt"][:7])
        volume[key] += 1
        if row["case_status"] != "Closed":
            continue
        closed[key] += 1
        opened = datetime.fromisoformat(row["open_dt"]).replace(tzinfo=tz)
        done = datetime.fromisoformat(row["closed_dt"]).replace(tzinfo=tz)
        # the recorded target, else the SLA of the type the import created
        due = (
            datetime.fromisoformat(row["target_dt"]).replace(tzinfo=tz)
            if row["target_dt"].strip()
            else opened + timedelta(hours=DEFAULT_SLA_HOURS)
        )
        on_time[key] += done.astimezone(UTC) <= due.astimezone(UTC)

    stored = db.session.execute(
        text(
            "SELECT d.code, to_char(sr.requested_at AT TIME ZONE 'America/New_York', 'YYYY-MM'), "
            "count(*), count(*) FILTER (WHERE sr.status = 'closed'), "
            "count(*) FILTER (WHERE sr.closed_at <= sr.due_at) "
            "FROM service_requests sr JOIN departments d ON d.id = sr.department_id "
            "WHERE sr.import_source = 'boston' GROUP BY 1, 2"
        )
    ).all()
    assert {(d, m): n for d, m, n, _, _ in stored} == dict(volume)
    assert {(d, m): n for d, m, _, n, _ in stored if n} == dict(closed)
    assert {(d, m): n for d, m, _, _, n in stored if n} == {k: n for k, n in on_time.items() if n}
    assert len({dept for dept, _ in volume}) == 11 and sum(volume.values()) == 58251

    # placeholders and points outside every ward: kept, with the location unknown
    places = district_codes("boston")
    city = prep(unary_union([polygon for _, polygon in wards]))
    expected_unknown = set()
    for row in raw:
        lat, long = float(row["latitude"]), float(row["longitude"])
        if (round(lat, 4), round(long, 4)) == (42.3594, -71.0587) or not city.covers(
            Point(long, lat)
        ):
            expected_unknown.add(row["case_enquiry_id"])
    unknown = {case for case, code in places.items() if code is None}
    assert unknown == expected_unknown
    assert len(unknown) > 4775 - 1
    # the rest are in the ward the city recorded
    pairs = [
        (places[r["case_enquiry_id"]], str(int(re.sub(r"\D", "", r["ward"]))))
        for r in raw
        if r["case_enquiry_id"] not in unknown and re.sub(r"\D", "", r["ward"])
    ]
    assert agreement(pairs) >= 0.99, f"ward agreement {agreement(pairs):.1%}"


# ---------------------------------------------------------------------------------------------
# the other cities


def test_nyc_samples_import_and_land_in_their_community_district(app, db_session):
    root = shared(app, NYC, NYC_DISTRICTS)
    load_districts(root / NYC_DISTRICTS, "boro_cd")
    db.session.commit()
    files = sorted((root / NYC).glob("*.csv"))
    raw: list[dict[str, str]] = []
    for path in files:
        result = run_import(app, path, "nyc")
        assert result.exit_code == 0, result.output
        assert " 0 bad" in result.output
        raw += csv_rows(path)
    places = district_codes("nyc")
    assert len(places) == len(raw) == 4386

    def board(value: str) -> str | None:
        number, _, borough = value.partition(" ")
        known = borough in BOROUGHS and number.isdigit()
        return f"{BOROUGHS[borough] * 100 + int(number)}" if known else None

    pairs = [
        (places[r["Unique Key"]], board(r["Community Board"]))
        for r in raw
        if places[r["Unique Key"]] and board(r["Community Board"])
    ]
    assert agreement(pairs) >= 0.97, f"community district agreement {agreement(pairs):.1%}"
    # rows without a point are kept, not dropped
    blank = {r["Unique Key"] for r in raw if not r["Latitude"].strip()}
    assert blank and all(places[case] is None for case in blank)

    stored = counts()
    again = run_import(app, files[0], "nyc")
    assert "0 imported" in again.output and counts() == stored


def test_kansas_city_potholes_import_with_their_status(app, db_session):
    root = shared(app, KCMO_CSV)
    # no council-district polygons were published: one box around the city stands in
    geo.create_district(routing_kind(), "KC", "Kansas City", box(-94.8, 38.8, -94.3, 39.4))
    db.session.commit()
    result = run_import(app, root / KCMO_CSV, "kcmo")
    assert result.exit_code == 0, result.output
    raw = csv_rows(root / KCMO_CSV)
    assert f"Read {len(raw)} rows" in result.output and " 0 bad" in result.output
    stored = db.session.execute(
        text(
            "SELECT status, channel, count(*) FROM service_requests "
            "WHERE import_source = 'kcmo' GROUP BY 1, 2"
        )
    ).all()
    by_status = Counter()
    for status, _, n in stored:
        by_status[status] += n
    expected = Counter("closed" if r["STATUS"] == "RESOL" else "new" for r in raw)
    assert by_status == expected
    channels = {channel for _, channel, _ in stored}
    assert {"phone", "web", "email", "social"} <= channels


def test_los_angeles_samples_import_into_their_council_district(app, db_session):
    root = shared(app, LA, LA_DISTRICTS)
    load_districts(root / LA_DISTRICTS, "name")
    db.session.commit()
    raw: list[dict[str, str]] = []
    bad = 0
    for path in sorted((root / LA).glob("*.csv")):
        result = run_import(app, path, "la")
        assert result.exit_code == 0, result.output
        bad += int(re.search(r"(\d+) bad", result.output).group(1))
        raw += [{k.lower(): v for k, v in r.items()} for r in csv_rows(path)]
    places = district_codes("la")
    assert len(raw) == 39999
    # closed without any date, or closed a day before it opened: reported, the rest stored
    assert len(places) + bad == len(raw) and bad <= 25
    pairs = [
        (places[r["srnumber"]], r["cd"].strip())
        for r in raw
        if places.get(r["srnumber"]) and r["cd"].strip()
    ]
    assert agreement(pairs) >= 0.99, f"council district agreement {agreement(pairs):.1%}"

"""Open data: what anyone may download, and everything it must never contain."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from app.core.clock import utcnow
from app.extensions import db
from app.geo.privacy import snap_to_grid
from app.metrics.opendata import COLUMNS
from tests.factories import WARD_1_POINT, WARD_2_POINT
from tests.metrics.test_service import make_request

PERSONAL = ("private.reporter@example.org", "Rita Reporter", "555-0199", "Test request")


def read_csv(resp) -> list[dict[str, str]]:
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))


def test_requests_csv_has_the_published_columns_and_no_personal_data(client, city):
    now = utcnow()
    fixed = make_request("pothole", now - timedelta(days=3), close_hours=20)
    late = make_request("graffiti", now - timedelta(days=20), close_hours=24 * 9)
    still_open = make_request("streetlight", now - timedelta(days=1), point=WARD_2_POINT)

    resp = client.get("/open-data/requests.csv")
    body = resp.get_data(as_text=True)
    assert resp.headers["Content-Type"].startswith("text/csv")
    assert resp.headers["Content-Disposition"] == 'attachment; filename="requests.csv"'
    for secret in PERSONAL + ("12 Main St",):
        assert secret not in body
    rows = {int(r["service_request_id"]): r for r in read_csv(resp)}
    assert list(csv.reader(io.StringIO(body)))[0] == list(COLUMNS)
    assert set(rows) == {fixed, late, still_open}

    assert rows[fixed]["status"] == "closed"
    assert rows[fixed]["closure_reason"] == "fixed"
    assert rows[fixed]["closed_within_sla"] == "true"  # 20 h against a 72 h SLA
    assert rows[fixed]["department"] == "Public Works"
    assert rows[fixed]["district_code"] == "1"
    assert float(rows[fixed]["lat"]) == pytest.approx(WARD_1_POINT[0])
    assert rows[fixed]["location_generalised"] == "false"
    # times carry the city's offset, so they read as local time and stay unambiguous
    assert rows[fixed]["requested_datetime"].endswith(("-05:00", "-04:00"))
    assert rows[late]["closed_within_sla"] == "false"  # 9 days against 7
    assert rows[still_open]["closed_datetime"] == ""
    assert rows[still_open]["closed_within_sla"] == ""
    assert rows[still_open]["district_code"] == "2"


def test_sensitive_types_publish_a_generalised_location(client, city):
    city.graffiti.sensitive = True
    db.session.flush()
    graffiti = make_request("graffiti", utcnow() - timedelta(days=1))
    pothole = make_request("pothole", utcnow() - timedelta(days=1))

    rows = {
        int(r["service_request_id"]): r for r in read_csv(client.get("/open-data/requests.csv"))
    }
    grid = client.application.config["PUBLIC_LOCATION_GRID_METRES"]
    expected = snap_to_grid(*WARD_1_POINT, grid)
    assert (float(rows[graffiti]["lat"]), float(rows[graffiti]["long"])) == pytest.approx(expected)
    assert (float(rows[graffiti]["lat"]), float(rows[graffiti]["long"])) != pytest.approx(
        WARD_1_POINT
    )
    assert rows[graffiti]["location_generalised"] == "true"
    assert float(rows[pothole]["lat"]) == pytest.approx(WARD_1_POINT[0])

    geo = client.get("/open-data/requests.geojson").get_json()
    points = {f["properties"]["service_request_id"]: f for f in geo["features"]}
    assert points[graffiti]["geometry"]["coordinates"] == pytest.approx([expected[1], expected[0]])


def test_geojson_is_a_feature_collection_of_the_same_rows(client, city):
    ids = [make_request("pothole", utcnow() - timedelta(hours=h)) for h in (1, 2, 3)]
    resp = client.get("/open-data/requests.geojson")
    assert resp.headers["Content-Type"] == "application/geo+json"
    doc = resp.get_json()
    assert doc["type"] == "FeatureCollection"
    assert [f["properties"]["service_request_id"] for f in doc["features"]] == sorted(ids)
    feature = doc["features"][0]
    assert feature["geometry"]["type"] == "Point"
    assert feature["geometry"]["coordinates"] == pytest.approx([WARD_1_POINT[1], WARD_1_POINT[0]])
    assert "lat" not in feature["properties"]
    for secret in PERSONAL:
        assert secret not in resp.get_data(as_text=True)


def test_filters_narrow_every_file(client, city):
    old = make_request("pothole", datetime(2026, 1, 10, 15, tzinfo=UTC), close_hours=5)
    new = make_request("pothole", datetime(2026, 3, 10, 15, tzinfo=UTC))
    graffiti = make_request("graffiti", datetime(2026, 3, 11, 15, tzinfo=UTC), point=WARD_2_POINT)

    def ids(query: str) -> set[int]:
        return {
            int(r["service_request_id"])
            for r in read_csv(client.get(f"/open-data/requests.csv?{query}"))
        }

    assert ids("from=2026-03-01") == {new, graffiti}
    assert ids("to=2026-01-10") == {old}  # the whole day of `to` is included
    assert ids("status=closed") == {old}
    assert ids("status=open") == {new, graffiti}
    assert ids("service_code=graffiti") == {graffiti}
    assert ids("district=2") == {graffiti}
    assert ids("from=2026-03-01&district=1") == {new}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-13-01", "from must be a date as YYYY-MM-DD"),
        ("from=2026-03-02&to=2026-03-01", "from (2026-03-02) is after to (2026-03-01)"),
        ("to=0001-01-01", "to must be a date between 1900 and 2199"),
        ("status=pending", "status must be open or closed"),
        ("service_code=nope", "There is no service type with code"),
        ("district=99", "There is no district with code"),
    ],
)
def test_bad_filters_get_a_400_that_says_what_to_fix(client, city, query, message):
    for path in ("/open-data/requests.csv", "/open-data/requests.geojson", "/open-data/counts.csv"):
        resp = client.get(f"{path}?{query}")
        assert resp.status_code == 400
        assert message in resp.get_data(as_text=True)


def test_counts_withhold_cells_with_fewer_requests_than_the_minimum(client, city):
    client.application.config["OPEN_DATA_MIN_CELL"] = 5
    start = datetime(2026, 4, 6, 15, tzinfo=UTC)
    for n in range(6):
        make_request("pothole", start + timedelta(hours=n), close_hours=10 if n < 4 else None)
    make_request("graffiti", start, point=WARD_2_POINT, close_hours=1)
    make_request("graffiti", start + timedelta(hours=1), point=WARD_2_POINT)

    resp = client.get("/open-data/counts.csv?from=2026-04-01&to=2026-04-30")
    cells = {(r["district_code"], r["service_code"]): r for r in read_csv(resp)}
    assert cells["1", "pothole"] == {
        "month": "2026-04",
        "district_code": "1",
        "district_name": "Ward 1",
        "service_code": "pothole",
        "service_name": "Pothole",
        "requests": "6",
        "closed": "4",
        "closed_within_sla": "4",
        "suppressed": "false",
    }
    small = cells["2", "graffiti"]
    assert (small["requests"], small["closed"], small["closed_within_sla"]) == ("", "", "")
    assert small["suppressed"] == "true"


def test_a_large_export_streams_in_pieces(client, city):
    # one request through intake, then 4,500 copies of it made cheaply in SQL
    make_request("pothole", datetime(2026, 5, 1, tzinfo=UTC))
    db.session.execute(
        db.text(
            "INSERT INTO service_requests (service_type_id, department_id, district_id,"
            " description, location, status, channel, requested_at, due_at, updated_at)"
            " SELECT service_type_id, department_id, district_id, description, location,"
            " status, channel, requested_at, due_at, updated_at"
            " FROM service_requests, generate_series(1, 4500)"
        )
    )
    resp = client.get("/open-data/requests.csv")
    chunks = [c.decode() if isinstance(c, bytes) else c for c in resp.response]
    assert len(chunks) >= 3  # written as the rows come, not built whole in memory
    assert len(list(csv.DictReader(io.StringIO("".join(chunks))))) == 4501


def test_the_open_data_page_needs_no_login_and_links_every_file(client, city):
    html = client.get("/open-data").get_data(as_text=True)
    for link in ("/open-data/requests.csv", "/open-data/requests.geojson", "/open-data/counts.csv"):
        assert f'href="{link}"' in html
    assert "fewer than 5" in html
    assert 'href="/open-data"' in client.get("/").get_data(as_text=True)

"""The residents' public endpoints: nearby open requests, following one, the map's data."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.geo.privacy import snap_to_grid
from app.notifications.models import Outbox
from app.requests import lifecycle
from tests.factories import WARD_1_POINT, WARD_2_POINT, submit

PRIVATE = ("Rita Reporter", "rita@example.org", "555-0199", "reporter", "email", "phone")
NEAR = (WARD_1_POINT[0] + 0.0002, WARD_1_POINT[1])  # about 22 m north


def assert_no_personal_data(text: str) -> None:
    for word in PRIVATE:
        assert word not in text, f"{word!r} is published"


def test_nearby_lists_open_requests_of_the_type_without_personal_data(client, city):
    near = submit("pothole", WARD_1_POINT, description="Deep hole by the bus stop")
    submit("streetlight", WARD_1_POINT)  # another type
    submit("pothole", WARD_2_POINT)  # far away
    closed = submit("pothole", WARD_1_POINT)
    lifecycle.close(closed, reason="fixed", actor_id=None)
    db.session.commit()

    resp = client.get(
        "/api/v1/requests/nearby",
        query_string={"service_code": "pothole", "lat": NEAR[0], "long": NEAR[1]},
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    found = resp.get_json()
    assert [r["id"] for r in found] == [near.id]
    assert found[0]["description"] == "Deep hole by the bus stop"
    assert 15 < found[0]["distance_m"] < 30
    assert found[0]["tracking_url"].endswith(f"/requests/{near.id}")
    assert_no_personal_data(resp.get_data(as_text=True))


def test_nearby_says_what_is_missing(client, city):
    resp = client.get("/api/v1/requests/nearby", query_string={"lat": "north", "long": 200})
    assert resp.status_code == 422
    message = resp.get_json()["message"]
    assert "service_code is required" in message
    assert "lat must be a number" in message and "long must be a number from -180" in message
    unknown = client.get(
        "/api/v1/requests/nearby",
        query_string={"service_code": "nope", "lat": NEAR[0], "long": NEAR[1]},
    )
    assert unknown.status_code == 200 and unknown.get_json() == []


def test_following_instead_answers_202_and_emails_a_confirmation_link(client, city):
    sr = submit()
    db.session.commit()
    resp = client.post(f"/api/v1/requests/{sr.id}/followers", json={"email": "fan@example.org"})
    assert resp.status_code == 202, resp.get_data(as_text=True)
    assert "Check your inbox" in resp.get_json()["message"]
    owed = db.session.scalars(
        db.select(Outbox).where(Outbox.request_id == sr.id, Outbox.event == "follow_confirm")
    ).all()
    assert [o.recipient for o in owed] == ["fan@example.org"]

    bad = client.post(f"/api/v1/requests/{sr.id}/followers", json={"email": "not-an-address"})
    assert bad.status_code == 400 and "email address" in bad.get_json()["message"]
    gone = client.post("/api/v1/requests/999999/followers", json={"email": "fan@example.org"})
    assert gone.status_code == 404


def test_the_map_data_is_geojson_without_personal_data(client, city):
    pothole = submit("pothole", WARD_1_POINT)
    light = submit("streetlight", WARD_2_POINT)
    lifecycle.close(light, reason="fixed", actor_id=None)
    db.session.commit()

    resp = client.get("/api/v1/map/requests")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["type"] == "FeatureCollection"
    by_id = {f["properties"]["id"]: f for f in body["features"]}
    assert set(by_id) == {pothole.id, light.id}
    assert by_id[pothole.id]["geometry"] == {
        "type": "Point",
        "coordinates": [WARD_1_POINT[1], WARD_1_POINT[0]],
    }
    assert by_id[light.id]["properties"]["status"] == "closed"
    assert_no_personal_data(resp.get_data(as_text=True))

    open_potholes = client.get(
        "/api/v1/map/requests", query_string={"service_code": "pothole", "status": "open"}
    ).get_json()
    assert [f["properties"]["id"] for f in open_potholes["features"]] == [pothole.id]
    closed = client.get("/api/v1/map/requests", query_string={"status": "closed"}).get_json()
    assert [f["properties"]["id"] for f in closed["features"]] == [light.id]


def test_the_map_shows_sensitive_types_where_the_privacy_rule_puts_them(client, city):
    city.graffiti.sensitive = True
    graffiti = submit("graffiti", WARD_1_POINT)
    pothole = submit("pothole", WARD_1_POINT)
    db.session.commit()

    features = client.get("/api/v1/map/requests").get_json()["features"]
    where = {f["properties"]["id"]: f["geometry"]["coordinates"] for f in features}
    grid = client.application.config["PUBLIC_LOCATION_GRID_METRES"]
    lat, long = snap_to_grid(*WARD_1_POINT, grid)
    assert where[graffiti.id] == pytest.approx([long, lat])
    assert where[graffiti.id] != pytest.approx([WARD_1_POINT[1], WARD_1_POINT[0]])
    assert where[pothole.id] == pytest.approx([WARD_1_POINT[1], WARD_1_POINT[0]])


def test_the_map_data_comes_a_page_at_a_time(client, city):
    ids = [submit().id for _ in range(3)]
    db.session.commit()
    first = client.get("/api/v1/map/requests", query_string={"limit": 2}).get_json()
    assert [f["properties"]["id"] for f in first["features"]] == [ids[2], ids[1]]
    rest = client.get(
        "/api/v1/map/requests", query_string={"limit": 2, "before_id": first["next_before_id"]}
    ).get_json()
    assert [f["properties"]["id"] for f in rest["features"]] == [ids[0]]
    assert rest["next_before_id"] is None
    assert client.get("/api/v1/map/requests", query_string={"limit": 5000}).status_code == 422


def test_the_map_page_and_the_home_page_links(client, city):
    page = client.get("/map").get_data(as_text=True)
    assert 'id="public-map"' in page and "markercluster" in page
    assert '<option value="pothole">' in page
    home = client.get("/").get_data(as_text=True)
    assert 'href="/map"' in home
    assert re.search(r'<form[^>]+action="/track"', home)


def test_the_track_box_goes_to_the_request(client, city, statements):
    sr = submit()
    db.session.commit()
    number = sr.id
    with statements() as seen:
        resp = client.get("/track", query_string={"number": f" #{number} "})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/requests/{number}")
    # a look-up by key: the tracking page it leads to reads the request, not this too
    assert seen == ["SELECT 1 FROM service_requests WHERE id = %(id)s"]
    missing = client.get("/track", query_string={"number": "99999999"})
    assert missing.status_code == 404
    assert "no request number 99999999" in missing.get_data(as_text=True)
    assert client.get("/track", query_string={"number": "pothole"}).status_code == 404

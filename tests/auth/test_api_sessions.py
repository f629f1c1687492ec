"""The JSON API authenticates by bearer token only: a browser's session cookie does nothing there.

Otherwise any site could make a signed-in dispatcher's browser close requests through the
API, which asks for no CSRF token.
"""

from __future__ import annotations

from app.extensions import db
from app.requests.models import ServiceRequest
from tests.factories import submit
from tests.helpers import bearer, sign_in


def test_a_session_cookie_cannot_change_state_through_the_api(client, city):
    sr = submit()
    sign_in(client, city.users["dispatcher"])
    resp = client.post(f"/api/v1/requests/{sr.id}/acknowledge")
    assert resp.status_code == 401
    resp = client.post(f"/api/v1/requests/{sr.id}/close", json={"reason": "fixed"})
    assert resp.status_code == 401
    assert db.session.get(ServiceRequest, sr.id).status == "new"


def test_a_session_cookie_reads_the_public_view_only(client, city):
    sr = submit()
    sign_in(client, city.users["admin"])
    body = client.get(f"/api/v1/requests/{sr.id}").get_json()
    assert "reporter" not in body
    assert client.get("/api/v1/auth/me").status_code == 401


def test_intake_with_a_session_cookie_is_anonymous(client, city, tokens):
    sign_in(client, city.users["agent"])
    resp = client.post(
        "/api/v1/requests",
        json={"service_code": "pothole", "description": "Deep", "lat": 42.32, "long": -71.08},
    )
    assert resp.status_code == 201
    created = resp.get_json()["id"]
    staff = client.get(f"/api/v1/requests/{created}", headers=bearer(tokens["admin"])).get_json()
    assert staff["created_by_id"] is None


def test_a_bearer_token_still_works_beside_a_session(client, city, tokens):
    sr = submit()
    sign_in(client, city.users["agent"])
    resp = client.post(
        f"/api/v1/requests/{sr.id}/acknowledge", headers=bearer(tokens["dispatcher"])
    )
    assert resp.status_code == 200
    # the pages still know who is signed in
    assert client.get("/staff/requests").status_code == 200

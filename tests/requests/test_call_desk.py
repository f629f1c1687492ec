"""The call desk endpoints: route preview, caller lookup, following on the caller's behalf."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.notifications.models import Outbox
from app.requests import call_desk, lifecycle, routing
from app.requests.models import RequestEvent, RequestSubscriber
from tests.factories import OUTSIDE_POINT, WARD_1_POINT, WARD_2_POINT, submit
from tests.helpers import bearer, sign_in

NEAR = (WARD_1_POINT[0] + 0.0002, WARD_1_POINT[1])  # about 22 m north
CALLER_EMAIL = "carla.caller@example.org"
#: the desk roles: they may use all three; crews may not
DESK = ("agent", "dispatcher", "manager", "admin")


def preview_args(code: str = "pothole", point: tuple[float, float] = WARD_1_POINT) -> str:
    return f"service_code={code}&lat={point[0]}&long={point[1]}"


# ---------------------------------------------------------------------------------------------
# route preview


def test_the_preview_is_what_intake_then_stores(city):
    routing.create_rule("pothole", district_code="2", crew_id=city.crew_b.id)
    routing.create_rule("graffiti", department_code="PWD")
    at = datetime(2026, 12, 4, 16, 30, tzinfo=UTC)  # a Friday afternoon: business days count
    for code, point in (
        ("pothole", WARD_1_POINT),
        ("pothole", WARD_2_POINT),
        ("streetlight", WARD_2_POINT),
        ("graffiti", WARD_1_POINT),
    ):
        shown = call_desk.preview_route(code, *point, at=at)
        stored = submit(code, point, requested_at=at)
        assert shown.department_code == stored.department.code, code
        assert shown.district_code == stored.district.code, code
        assert shown.due_at == stored.due_at, code
        assert shown.crew_id == stored.crew_id, code
        assert shown.due_at.tzinfo is not None and shown.due_at.utcoffset() == timedelta(hours=-5)
    assert call_desk.preview_route("pothole", *WARD_2_POINT, at=at).crew_id == city.crew_b.id
    assert call_desk.preview_route("graffiti", *WARD_1_POINT, at=at).department_code == "PWD"


def test_the_preview_stores_nothing(client, city, tokens):
    before = db.session.scalar(select(func.count()).select_from(RequestEvent))
    resp = client.get(
        f"/api/v1/requests/route-preview?{preview_args('streetlight', WARD_2_POINT)}",
        headers=bearer(tokens["agent"]),
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["department"] == {"code": "PWD", "name": "Public Works"}
    assert body["district"] == {"code": "2", "name": "Ward 2"}
    assert body["service"] == {"code": "streetlight", "name": "Streetlight out"}
    assert body["due_text"].endswith(("EST", "EDT"))
    assert datetime.fromisoformat(body["due_at"]) > datetime.now(UTC)
    assert db.session.scalar(select(func.count()).select_from(RequestEvent)) == before


def test_the_api_preview_matches_the_request_the_api_then_makes(client, city, tokens):
    shown = client.get(
        f"/api/v1/requests/route-preview?{preview_args()}", headers=bearer(tokens["agent"])
    ).get_json()
    made = client.post(
        "/api/v1/requests",
        json={"service_code": "pothole", "description": "Hole", "lat": 42.32, "long": -71.08},
        headers=bearer(tokens["agent"]),
    )
    assert made.status_code == 201, made.get_json()
    stored = client.get(
        f"/api/v1/requests/{made.get_json()['id']}", headers=bearer(tokens["agent"])
    ).get_json()
    assert shown["department"]["code"] == stored["department"]["code"]
    assert shown["district"]["code"] == stored["district"]["code"]
    gap = datetime.fromisoformat(stored["due_at"]) - datetime.fromisoformat(shown["due_at"])
    assert timedelta(0) <= gap < timedelta(minutes=1)  # the same 72 hours, seconds later


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        (preview_args("nope"), 400, "service code"),
        (preview_args(point=OUTSIDE_POINT), 400, "outside"),
        ("service_code=pothole&lat=42.3", 422, "long is required"),
        ("service_code=pothole&lat=91&long=-71", 422, "lat must be a number from -90 to 90"),
    ],
)
def test_a_bad_preview_says_what_to_fix(client, city, tokens, query, status, words):
    resp = client.get(f"/api/v1/requests/route-preview?{query}", headers=bearer(tokens["agent"]))
    assert resp.status_code == status
    assert words.lower() in str(resp.get_json()).lower()


@pytest.mark.parametrize("path", ["route-preview", "caller-lookup"])
def test_only_desk_roles_may_ask(client, city, tokens, path):
    url = f"/api/v1/requests/{path}?{preview_args()}&phone=6175550199"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=bearer(tokens["crew"])).status_code == 403
    for role in DESK:
        assert client.get(url, headers=bearer(tokens[role])).status_code == 200, role


@pytest.mark.parametrize("path", ["route-preview", "caller-lookup"])
def test_the_call_form_asks_with_its_session(client, city, path):
    url = f"/agent/{path}?{preview_args()}&phone=6175550199"
    json = {"Accept": "application/json"}
    assert client.get(url, headers=json).status_code == 401
    page = client.get(url)
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    sign_in(client, city.users["crew"])
    assert client.get(url, headers=json).status_code == 403
    for role in DESK:
        client.post("/logout")
        sign_in(client, city.users[role])
        assert client.get(url, headers=json).status_code == 200, role


def test_the_api_ignores_the_session_cookie(client, city):
    sign_in(client, city.users["agent"])
    assert client.get(f"/api/v1/requests/route-preview?{preview_args()}").status_code == 401


# ---------------------------------------------------------------------------------------------
# caller lookup


@pytest.mark.parametrize(
    "typed",
    ["6175550199", "(617) 555-0199", "+1 617 555 0199", "617.555.0199", "555-0199"],
)
def test_the_lookup_finds_the_callers_requests_by_phone_in_any_format(client, city, tokens, typed):
    mine = submit(phone="+1 (617) 555-0199", email="")
    older = submit("streetlight", WARD_2_POINT, phone="617-555-0199", email="")
    submit(phone="(617) 555-0100", email="")  # someone else
    resp = client.get(
        "/api/v1/requests/caller-lookup",
        query_string={"phone": typed},
        headers=bearer(tokens["agent"]),
    )
    assert resp.status_code == 200, resp.get_json()
    assert [item["id"] for item in resp.get_json()["earlier"]] == [older.id, mine.id]


def test_the_lookup_finds_by_email_whatever_its_case_and_lists_nearby_open_requests(
    client, city, tokens
):
    earlier = submit("streetlight", WARD_2_POINT, email=CALLER_EMAIL, phone="")
    near = submit(point=NEAR, email="someone@example.org", description="Deep hole by the kerb")
    closed = submit(point=NEAR)
    lifecycle.close(closed, reason="fixed", actor_id=city.users["dispatcher"].id)
    submit("streetlight", NEAR)  # another type
    resp = client.get(
        "/api/v1/requests/caller-lookup",
        query_string={
            "email": CALLER_EMAIL.upper(),
            "service_code": "pothole",
            "lat": WARD_1_POINT[0],
            "long": WARD_1_POINT[1],
        },
        headers=bearer(tokens["agent"]),
    )
    body = resp.get_json()
    assert [item["id"] for item in body["earlier"]] == [earlier.id]
    assert body["earlier"][0]["distance_m"] is None
    assert [item["id"] for item in body["nearby"]] == [near.id]
    item = body["nearby"][0]
    assert 21 < item["distance_m"] < 24
    assert item["description"] == "Deep hole by the kerb"
    assert item["open"] is True
    assert item["staff_url"] == f"/staff/requests/{near.id}"
    assert "someone@example.org" not in str(body)  # the other reporter stays private


def test_a_request_matching_both_phone_and_email_is_listed_once(client, city, tokens):
    both = submit(phone="617 555 0199", email=CALLER_EMAIL)
    by_phone = submit("streetlight", WARD_2_POINT, phone="(617) 555-0199", email="")
    by_email = submit("graffiti", email=CALLER_EMAIL.upper(), phone="")
    resp = client.get(
        "/api/v1/requests/caller-lookup",
        query_string={"phone": "6175550199", "email": CALLER_EMAIL},
        headers=bearer(tokens["agent"]),
    )
    assert [item["id"] for item in resp.get_json()["earlier"]] == [
        by_email.id,
        by_phone.id,
        both.id,
    ]


def test_too_few_digits_find_nothing_and_a_dispatcher_sees_their_department_only(
    client, city, tokens
):
    pothole = submit(phone="617 555 0199", email="")
    submit("graffiti", phone="617 555 0199", email="")  # Parks
    short = client.get("/api/v1/requests/caller-lookup?phone=0199", headers=bearer(tokens["agent"]))
    assert short.get_json() == {"earlier": [], "nearby": []}
    mine = client.get(
        "/api/v1/requests/caller-lookup?phone=6175550199", headers=bearer(tokens["dispatcher"])
    )
    assert [item["id"] for item in mine.get_json()["earlier"]] == [pothole.id]
    every = client.get(
        "/api/v1/requests/caller-lookup?phone=6175550199", headers=bearer(tokens["agent"])
    )
    assert len(every.get_json()["earlier"]) == 2


# ---------------------------------------------------------------------------------------------
# following on the caller's behalf


def _followers(request_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(RequestSubscriber.email).where(RequestSubscriber.request_id == request_id)
        )
    )


def test_an_agent_adds_the_caller_as_a_follower_without_a_confirmation_email(client, city, tokens):
    sr = submit()
    resp = client.post(
        f"/api/v1/requests/{sr.id}/followers/on-behalf",
        json={"email": f" {CALLER_EMAIL} ", "language": "es"},
        headers=bearer(tokens["agent"]),
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["added"] is True
    assert _followers(sr.id) == [CALLER_EMAIL]
    follower = db.session.scalar(
        select(RequestSubscriber).where(RequestSubscriber.request_id == sr.id)
    )
    assert follower.language == "es" and follower.source == "follow"
    assert not db.session.scalar(
        select(func.count())
        .select_from(Outbox)
        .where(Outbox.request_id == sr.id, Outbox.event == "follow_confirm")
    )
    note = db.session.scalars(
        select(RequestEvent).where(RequestEvent.request_id == sr.id, RequestEvent.kind == "note")
    ).one()
    assert note.public is False
    assert note.actor_id == city.users["agent"].id
    assert CALLER_EMAIL in note.note and "on the caller's behalf" in note.note

    again = client.post(
        f"/api/v1/requests/{sr.id}/followers/on-behalf",
        json={"email": CALLER_EMAIL.upper()},
        headers=bearer(tokens["agent"]),
    )
    assert again.get_json()["added"] is False
    assert _followers(sr.id) == [CALLER_EMAIL]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("crew", 403),
        ("parks_dispatcher", 403),
        ("agent", 200),
        ("dispatcher", 200),
        ("manager", 200),
        ("admin", 200),
    ],
)
def test_who_may_add_a_follower_on_behalf(client, city, tokens, who, status):
    sr = submit()  # a Public Works request
    headers = bearer(tokens[who]) if who != "anonymous" else {}
    resp = client.post(
        f"/api/v1/requests/{sr.id}/followers/on-behalf",
        json={"email": CALLER_EMAIL},
        headers=headers,
    )
    assert resp.status_code == status, resp.get_json()
    assert _followers(sr.id) == ([CALLER_EMAIL] if status == 200 else [])


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"email": "not an address"}, 400, "Enter an email address"),
        ({}, 422, "email is required"),
    ],
)
def test_a_bad_follow_says_what_to_fix(client, city, tokens, body, status, words):
    sr = submit()
    resp = client.post(
        f"/api/v1/requests/{sr.id}/followers/on-behalf", json=body, headers=bearer(tokens["agent"])
    )
    assert resp.status_code == status
    assert words in str(resp.get_json())
    assert _followers(sr.id) == []


def test_a_closed_request_cannot_be_followed_and_an_unknown_one_is_404(client, city, tokens):
    sr = submit()
    lifecycle.close(sr, reason="fixed", actor_id=city.users["dispatcher"].id)
    resp = client.post(
        f"/api/v1/requests/{sr.id}/followers/on-behalf",
        json={"email": CALLER_EMAIL},
        headers=bearer(tokens["agent"]),
    )
    assert resp.status_code == 409
    assert "closed" in resp.get_json()["message"]
    missing = client.post(
        "/api/v1/requests/999999/followers/on-behalf",
        json={"email": CALLER_EMAIL},
        headers=bearer(tokens["agent"]),
    )
    assert missing.status_code == 404


def test_the_call_form_adds_a_follower_with_its_session(client, city):
    sr = submit()
    sign_in(client, city.users["agent"])
    resp = client.post(
        f"/agent/requests/{sr.id}/followers",
        json={"email": CALLER_EMAIL},
        headers={"Accept": "application/json"},
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert f"now follows request {sr.id}" in resp.get_json()["message"]
    assert _followers(sr.id) == [CALLER_EMAIL]
    bad = client.post(
        f"/agent/requests/{sr.id}/followers", json={}, headers={"Accept": "application/json"}
    )
    assert bad.status_code == 422
    assert "email is required" in bad.get_json()["message"]

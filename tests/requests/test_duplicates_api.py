"""The duplicates, merge and events endpoints, through HTTP with bearer tokens."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.notifications.models import Outbox
from app.requests import lifecycle, merging
from app.requests.models import RequestEvent, RequestSubscriber, ServiceRequest
from tests.factories import WARD_1_POINT, submit
from tests.helpers import bearer

# about 22 m and 222 m north of WARD_1_POINT
NEAR = (WARD_1_POINT[0] + 0.0002, WARD_1_POINT[1])
FAR = (WARD_1_POINT[0] + 0.002, WARD_1_POINT[1])


def snapshot(*srs: ServiceRequest) -> tuple:
    """Return what a merge would change, to compare before and after a refusal."""
    db.session.expire_all()
    ids = [sr.id for sr in srs]
    rows = db.session.scalars(
        select(ServiceRequest).where(ServiceRequest.id.in_(ids)).order_by(ServiceRequest.id)
    )
    count = lambda model, *where: db.session.scalar(  # noqa: E731
        select(func.count()).select_from(model).where(*where)
    )
    return (
        [(r.status, r.parent_id, r.closure_reason, r.closed_at) for r in rows],
        count(RequestEvent, RequestEvent.request_id.in_(ids)),
        count(RequestSubscriber, RequestSubscriber.request_id.in_(ids)),
        count(Outbox, Outbox.request_id.in_(ids)),
    )


# ---------------------------------------------------------------------------------------------
# GET /requests/<id>/duplicates


def test_candidates_list_nearby_open_requests_of_the_type_with_their_distance(client, city, tokens):
    sr = submit()
    near = submit(point=NEAR, description="Same pothole, by the bus stop", address="14 Main St")
    far = submit(point=FAR)
    submit("streetlight", point=NEAR)
    resp = client.get(f"/api/v1/requests/{sr.id}/duplicates", headers=bearer(tokens["agent"]))
    assert resp.status_code == 200, resp.get_json()
    [item] = resp.get_json()
    assert item["id"] == near.id
    assert 21 < item["distance_m"] < 24
    assert item["status"] == "new"
    assert item["address"] == "14 Main St"
    assert item["description"] == "Same pothole, by the bus stop"
    assert item["service"] == {"code": "pothole", "name": "Pothole"}
    assert datetime.fromisoformat(item["requested_at"]) == near.requested_at
    assert "reporter" not in item  # a candidate is read, not contacted

    wide = client.get(
        f"/api/v1/requests/{sr.id}/duplicates?radius=500", headers=bearer(tokens["dispatcher"])
    )
    assert [(i["id"], round(i["distance_m"], -1)) for i in wide.get_json()] == [
        (near.id, 20),
        (far.id, 220),
    ]


@pytest.mark.parametrize("radius", ["0", "1001", "-5", "wide", "nan"])
def test_a_bad_radius_is_422(client, city, tokens, radius):
    sr = submit()
    resp = client.get(
        f"/api/v1/requests/{sr.id}/duplicates",
        query_string={"radius": radius},
        headers=bearer(tokens["agent"]),
    )
    assert resp.status_code == 422
    assert "radius" in resp.get_json()["message"]


def test_candidates_are_for_desk_staff(client, city, tokens):
    sr = submit()
    path = f"/api/v1/requests/{sr.id}/duplicates"
    assert client.get(path).status_code == 401
    assert client.get(path, headers=bearer(tokens["crew"])).status_code == 403
    unknown = client.get("/api/v1/requests/999999/duplicates", headers=bearer(tokens["agent"]))
    assert unknown.status_code == 404


# ---------------------------------------------------------------------------------------------
# POST /requests/<id>/merge


def merge(client, token: str, sr: ServiceRequest, body: dict):
    return client.post(f"/api/v1/requests/{sr.id}/merge", json=body, headers=bearer(token))


@pytest.mark.parametrize("role", ["agent", "dispatcher", "manager", "admin"])
def test_merge_through_the_api(client, city, tokens, role):
    original = submit(email="first@example.org")
    dup = submit(point=NEAR, email="second@example.org")
    db.session.commit()

    resp = merge(client, tokens[role], dup, {"into": original.id, "note": "  Same hole  "})

    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {
        "request": {
            "id": dup.id,
            "status": "closed",
            "closure_reason": "duplicate",
            "closure_note": f"Merged into request {original.id}: Same hole",
            "parent_id": original.id,
            "subscribers": 0,
        },
        "into": {
            "id": original.id,
            "status": "new",
            "closure_reason": None,
            "closure_note": "",
            "parent_id": None,
            "subscribers": 1,
        },
        "subscribed": 1,
    }
    db.session.expire_all()
    [sub] = db.session.scalars(
        select(RequestSubscriber).where(RequestSubscriber.request_id == original.id)
    ).all()
    assert (sub.email, sub.source, sub.from_request_id) == (
        "second@example.org",
        "duplicate",
        dup.id,
    )
    actor = city.users[role].id
    merged_events = db.session.scalars(
        select(RequestEvent).where(RequestEvent.kind == "merged").order_by(RequestEvent.id)
    ).all()
    assert [(e.request_id, e.actor_id, e.data) for e in merged_events] == [
        (original.id, actor, {"from": dup.id, "subscribed": 1}),
        (dup.id, actor, {"into": original.id, "subscribed": 1}),
    ]


def test_merge_refusals_are_409_and_change_nothing(client, city, tokens):
    agent = tokens["agent"]
    a = submit(email="a@example.org")
    b = submit(point=NEAR, email="b@example.org")
    closed = submit(point=NEAR, email="c@example.org")
    lifecycle.close(closed, reason="fixed", actor_id=None)
    merged = submit(point=NEAR, email="m@example.org")
    merging.merge(merged.id, a.id, actor_id=None)
    busy = submit(point=NEAR, email="busy@example.org")
    lifecycle.mark_assigned(busy, actor_id=None, work_order_id=3, crew_name="Pothole crew A")
    db.session.commit()

    cases = [
        (a, a, "cannot be merged into itself"),
        (a, closed, f"Request {closed.id} is closed: merge into an open request"),
        (b, merged, f"merged into request {a.id}: merge into request {a.id} instead"),
        (closed, a, f"Request {closed.id} is already closed (Fixed)"),
        (merged, b, f"Request {merged.id} was already merged into request {a.id}"),
        (busy, a, f"A crew is on request {busy.id} (assigned): merge request {a.id} into it"),
    ]
    for source, into, words in cases:
        before = snapshot(a, b, closed, merged, busy)
        resp = merge(client, agent, source, {"into": into.id, "note": "x"})
        assert resp.status_code == 409, (source.id, into.id, resp.get_json())
        assert words in resp.get_json()["message"]
        assert snapshot(a, b, closed, merged, busy) == before
    # a merged request's root is named, for a client to offer it
    resp = merge(client, agent, b, {"into": merged.id})
    assert resp.get_json()["root_id"] == a.id


@pytest.mark.parametrize(
    "body, words",
    [
        ({}, "into is required"),
        ({"into": None}, "into is required"),
        ({"into": "12"}, "into must be a request number"),
        ({"into": 0}, "into must be a request number"),
        ({"into": True}, "into must be a request number"),
        ({"into": 1, "note": "x" * 4001}, "note is longer than 4000"),
    ],
)
def test_bad_merge_bodies_are_422(client, city, tokens, body, words):
    sr = submit()
    resp = merge(client, tokens["agent"], sr, body)
    assert resp.status_code == 422
    assert words in resp.get_json()["message"]
    assert snapshot(sr)[0] == [("new", None, None, None)]


def test_merging_into_an_unknown_request_is_404(client, city, tokens):
    sr = submit()
    resp = merge(client, tokens["agent"], sr, {"into": 999999})
    assert resp.status_code == 404
    assert "There is no service request 999999" in resp.get_json()["message"]


def test_merge_permissions(client, city, tokens):
    pothole = submit()
    other = submit(point=NEAR, email="other@example.org")
    db.session.commit()
    before = snapshot(pothole, other)
    assert merge(client, "", other, {"into": pothole.id}).status_code == 401
    for token in ("crew", "parks_dispatcher"):
        resp = merge(client, tokens[token], other, {"into": pothole.id})
        assert resp.status_code == 403, token
    assert "belongs to Public Works" in resp.get_json()["message"]
    assert snapshot(pothole, other) == before


# ---------------------------------------------------------------------------------------------
# GET /requests/<id>/events


def test_events_give_the_whole_history_with_who_and_when(client, city, tokens):
    dispatcher = city.users["dispatcher"]
    sr = submit()
    lifecycle.acknowledge(sr, actor_id=dispatcher.id)
    lifecycle.add_note(sr, actor_id=dispatcher.id, note="Owner will call back", public=False)
    lifecycle.put_on_hold(sr, actor_id=dispatcher.id, reason="waiting_on_resident", note="Asked")
    original = submit(point=NEAR, email="o@example.org")
    merging.merge(sr.id, original.id, actor_id=city.users["agent"].id)
    db.session.commit()

    resp = client.get(f"/api/v1/requests/{sr.id}/events", headers=bearer(tokens["agent"]))

    assert resp.status_code == 200, resp.get_json()
    events = resp.get_json()
    assert [e["kind"] for e in events] == [
        "created",
        "acknowledged",
        "note",
        "held",
        "merged",
        "closed",
    ]
    created, acknowledged, note, held, merged, closed = events
    assert created["actor"] is None and created["to_status"] == "new"
    assert acknowledged["actor"] == {
        "id": dispatcher.id,
        "name": dispatcher.name,
        "email": "dispatcher@city.test",
        "role": "dispatcher",
    }
    assert (acknowledged["from_status"], acknowledged["to_status"]) == ("new", "acknowledged")
    assert (note["public"], note["note"]) == (False, "Owner will call back")
    assert (held["to_status"], held["data"], held["note"]) == (
        "on_hold",
        {"reason": "waiting_on_resident"},
        "Asked",
    )
    assert merged["data"] == {"into": original.id, "subscribed": 1}
    assert merged["actor"]["role"] == "agent"
    assert (closed["from_status"], closed["to_status"], closed["public"]) == (
        "on_hold",
        "closed",
        True,
    )
    assert closed["data"]["reason"] == "duplicate" and closed["data"]["held_seconds"] >= 0
    assert all(datetime.fromisoformat(e["at"]).tzinfo is not None for e in events)
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)


def test_events_are_for_desk_staff(client, city, tokens):
    sr = submit()
    path = f"/api/v1/requests/{sr.id}/events"
    assert client.get(path).status_code == 401
    assert client.get(path, headers=bearer(tokens["crew"])).status_code == 403
    for role in ("dispatcher", "parks_dispatcher", "manager", "admin"):
        assert client.get(path, headers=bearer(tokens[role])).status_code == 200, role
    assert (
        client.get("/api/v1/requests/999999/events", headers=bearer(tokens["agent"])).status_code
        == 404
    )

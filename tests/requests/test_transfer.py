"""Transfer ("not ours"): a request moves to its real type and department; its clock stays true."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.clock import utcnow
from app.extensions import db
from app.requests import lifecycle, routing
from app.requests.catalogue import compute_due_at
from app.requests.models import RequestEvent, ServiceRequest
from app.requests.transfer import transfer as transfer_verb
from tests.factories import WARD_1_POINT, WARD_2_POINT, submit
from tests.helpers import bearer


def fresh(sr: ServiceRequest) -> ServiceRequest:
    db.session.expire_all()
    return db.session.get(ServiceRequest, sr.id)


def events(sr: ServiceRequest, kind: str) -> list[RequestEvent]:
    return list(
        db.session.scalars(
            select(RequestEvent)
            .where(RequestEvent.request_id == sr.id, RequestEvent.kind == kind)
            .order_by(RequestEvent.id)
        )
    )


def transfer(client, token: str, sr: ServiceRequest, body: dict):
    return client.post(f"/api/v1/requests/{sr.id}/transfer", json=body, headers=bearer(token))


def snapshot(sr: ServiceRequest) -> tuple:
    sr = fresh(sr)
    return (
        sr.service_type_id,
        sr.department_id,
        sr.crew_id,
        sr.requested_at,
        sr.due_at,
        len(events(sr, "transferred")),
    )


def test_an_agent_moves_a_request_to_its_real_type_and_department(client, city, tokens):
    requested_at = (utcnow() - timedelta(days=3)).replace(microsecond=0)
    sr = submit("pothole", WARD_2_POINT, requested_at=requested_at)
    old_due = sr.due_at

    resp = transfer(
        client, tokens["agent"], sr, {"service_code": "graffiti", "note": "It is paint."}
    )

    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["service"] == {"code": "graffiti", "name": "Graffiti"}
    assert body["department"] == {"code": "PARKS", "name": "Parks and Recreation"}
    sr = fresh(sr)
    assert (sr.service_type_id, sr.department_id) == (city.graffiti.id, city.parks.id)
    # the resident's wait is kept: requested_at never moves; the new SLA counts from it
    assert sr.requested_at == requested_at
    assert (
        sr.due_at
        == compute_due_at(requested_at, city.graffiti)
        == requested_at + timedelta(hours=7 * 24)
    )
    assert sr.due_at != old_due
    (event,) = events(sr, "transferred")
    assert event.note == "It is paint." and event.public is False
    assert event.actor_id == city.users["agent"].id
    assert event.data["from"] == {"service_code": "pothole", "department": "PWD"}
    assert event.data["to"] == {"service_code": "graffiti", "department": "PARKS"}
    assert event.data["due_at"] == sr.due_at.isoformat()
    # internal: the staff history has it, the public one does not
    assert "transferred" in [e["kind"] for e in body["events"]]
    public = client.get(f"/api/v1/requests/{sr.id}").get_json()
    assert "transferred" not in [e["kind"] for e in public["history"]]


def test_the_new_due_time_counts_the_time_already_on_hold(city):
    sr = submit("pothole")
    held = lifecycle.put_on_hold(sr, actor_id=None, reason="weather")
    sr.held_since = held.at - timedelta(hours=10)  # as if held for ten hours
    lifecycle.resume(sr, actor_id=None)
    assert sr.held_seconds >= 10 * 3600

    transfer_verb(sr, service_code="streetlight", note="A light, not a hole", actor_id=None)
    # business days, from the resident's request moved on by the pause
    assert sr.due_at == compute_due_at(
        sr.requested_at + timedelta(seconds=sr.held_seconds), city.streetlight
    )


def test_the_new_types_routing_rule_chooses_department_and_crew(client, city, tokens):
    routing.create_rule("pothole", district_code="1", crew_id=city.crew_b.id)
    routing.create_rule("pothole", department_code="PARKS")
    in_ward_1 = submit("graffiti", WARD_1_POINT)
    in_ward_2 = submit("graffiti", WARD_2_POINT)
    for sr in (in_ward_1, in_ward_2):
        resp = transfer(
            client, tokens["manager"], sr, {"service_code": "pothole", "note": "A hole"}
        )
        assert resp.status_code == 200
    assert (fresh(in_ward_1).department_id, fresh(in_ward_1).crew_id) == (
        city.public_works.id,
        city.crew_b.id,
    )
    assert (fresh(in_ward_2).department_id, fresh(in_ward_2).crew_id) == (city.parks.id, None)
    assert events(in_ward_1, "transferred")[0].data["crew"] == "Pothole crew B"


def test_a_dispatcher_may_give_away_only_their_own_departments_requests(client, city, tokens):
    ours = submit("pothole")
    theirs = submit("graffiti")
    body = {"service_code": "streetlight", "note": "Wrong pick"}

    assert transfer(client, tokens["dispatcher"], ours, body).status_code == 200
    before = snapshot(theirs)
    refused = transfer(client, tokens["dispatcher"], theirs, body)
    assert refused.status_code == 403
    assert "Parks and Recreation" in refused.get_json()["message"]
    assert snapshot(theirs) == before


def test_crews_may_not_transfer(client, city, tokens):
    sr = submit("pothole")
    before = snapshot(sr)
    resp = transfer(client, tokens["crew"], sr, {"service_code": "graffiti", "note": "x"})
    assert resp.status_code == 403
    assert client.post(f"/api/v1/requests/{sr.id}/transfer", json={}).status_code == 401
    assert snapshot(sr) == before


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"service_code": "no-such", "note": "x"}, 404, "GET /api/v1/services"),
        ({"service_code": "pothole", "note": "x"}, 409, "already a Pothole request"),
        ({"service_code": "graffiti"}, 422, "say why"),
        ({"service_code": "graffiti", "note": "   "}, 422, "say why"),
        ({"note": "It is paint"}, 422, "service_code is required"),
    ],
)
def test_bad_transfers_are_refused_and_change_nothing(client, city, tokens, body, status, words):
    sr = submit("pothole")
    before = snapshot(sr)
    resp = transfer(client, tokens["agent"], sr, body)
    assert resp.status_code == status
    assert words in resp.get_json()["message"]
    assert snapshot(sr) == before


def test_a_closed_request_is_not_transferred(client, city, tokens):
    sr = submit("pothole")
    lifecycle.close(sr, reason="fixed", actor_id=None)
    before = snapshot(sr)
    resp = transfer(client, tokens["agent"], sr, {"service_code": "graffiti", "note": "x"})
    assert resp.status_code == 409 and "reopen it" in resp.get_json()["message"]
    assert snapshot(sr) == before


def test_a_request_on_an_open_work_order_waits_until_the_crew_is_called_off(client, city, tokens):
    sr = submit("pothole")
    dispatcher = bearer(tokens["dispatcher"])
    order = client.post(
        "/api/v1/workorders",
        json={"request_ids": [sr.id], "crew_id": city.crew_a.id},
        headers=dispatcher,
    )
    assert order.status_code == 201, order.get_json()
    order_id = order.get_json()["id"]
    before = snapshot(sr)

    body = {"service_code": "graffiti", "note": "Paint, not a hole"}
    refused = transfer(client, tokens["dispatcher"], sr, body)
    assert refused.status_code == 409
    assert f"open work order {order_id}" in refused.get_json()["message"]
    assert refused.get_json()["work_order_ids"] == [order_id]
    assert snapshot(sr) == before

    cancelled = client.post(
        f"/api/v1/workorders/{order_id}/cancel", json={"reason": "Not ours"}, headers=dispatcher
    )
    assert cancelled.status_code == 200
    assert transfer(client, tokens["dispatcher"], sr, body).status_code == 200
    assert fresh(sr).department_id == city.parks.id

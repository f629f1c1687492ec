"""The work-order API on the real stack: dispatch, start, close-out with a photo, and who may."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.media.models import Photo
from app.workorders.models import WorkOrder
from tests.helpers import bearer
from tests.workorders.helpers import (
    event_kinds,
    events,
    fresh,
    order_photos,
    photo_upload,
    submit,
)


def dispatch(client, token, request_ids, crew_id, **extra):
    return client.post(
        "/api/v1/workorders",
        json={"request_ids": request_ids, "crew_id": crew_id, **extra},
        headers=bearer(token),
    )


def complete(client, token, wo_id, *, photo=None, note=None):
    data = {}
    if photo is not None:
        data["photo"] = photo
    if note is not None:
        data["note"] = note
    return client.post(
        f"/api/v1/workorders/{wo_id}/complete",
        data=data,
        content_type="multipart/form-data",
        headers=bearer(token),
    )


def order_count() -> int:
    return db.session.scalar(select(func.count()).select_from(WorkOrder))


def test_dispatch_start_and_complete_close_every_request_with_the_photo(client, city, tokens):
    first, second = submit(), submit("streetlight", address="3 Elm St")

    resp = dispatch(
        client, tokens["dispatcher"], [second.id, first.id], city.crew_a.id, instructions=" Cones "
    )
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    wo_id = body["id"]
    assert body["status"] == "assigned"
    assert body["crew"] == {"id": city.crew_a.id, "name": "Pothole crew A"}
    assert body["department"] == {"code": "PWD", "name": "Public Works"}
    assert body["instructions"] == "Cones"
    assert body["request_ids"] == sorted([first.id, second.id])
    assert [r["status"] for r in body["requests"]] == ["assigned", "assigned"]
    assert body["assigned_at"] and body["started_at"] is None and body["photo_url"] is None
    assigned = events(fresh(first), "assigned")[0]
    assert assigned.data == {"work_order_id": wo_id, "crew": "Pothole crew A"}
    assert assigned.actor_id == city.users["dispatcher"].id

    resp = client.post(f"/api/v1/workorders/{wo_id}/start", headers=bearer(tokens["crew"]))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status"] == "in_progress"
    assert resp.get_json()["started_at"] is not None
    assert fresh(first).status == "in_progress"

    resp = complete(
        client, tokens["crew"], wo_id, photo=photo_upload(), note="  Filled and rolled.  "
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "completed"
    assert body["completion_note"] == "Filled and rolled."
    (photo,) = order_photos(wo_id)
    assert photo.kind == "after" and photo.request_id is None
    assert body["photo_url"] == f"http://city311.test/photos/{photo.id}/display.jpg"

    wo = db.session.get(WorkOrder, wo_id)
    assert wo.assigned_at <= wo.started_at <= wo.completed_at
    for sr in (first, second):
        sr = fresh(sr)
        assert (sr.status, sr.closure_reason) == ("closed", "fixed")
        assert timedelta(0) <= sr.closed_at - wo.completed_at < timedelta(seconds=5)
        assert sr.closure_note == "Filled and rolled."
        assert event_kinds(sr) == ["created", "assigned", "status_changed", "closed"]
        closed = events(sr, "closed")[0]
        assert closed.data == {"reason": "fixed", "photo_id": photo.id, "work_order_id": wo_id}
        assert closed.actor_id == city.users["crew"].id and closed.public


def test_completing_straight_from_assigned_without_a_required_photo(client, city, tokens):
    city.streetlight.completion_photo_required = False
    sr = submit("streetlight")
    wo_id = dispatch(client, tokens["dispatcher"], [sr.id], city.crew_b.id).get_json()["id"]

    resp = complete(client, tokens["crew_b"], wo_id)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["started_at"] == body["completed_at"]
    assert body["photo_url"] is None
    sr = fresh(sr)
    assert sr.status == "closed"
    assert sr.closure_note == "Work completed by Pothole crew B."
    assert event_kinds(sr) == ["created", "assigned", "closed"]


def test_missing_photo_is_refused_and_nothing_changes(client, city, tokens):
    sr = submit()
    wo_id = dispatch(client, tokens["dispatcher"], [sr.id], city.crew_a.id).get_json()["id"]

    resp = complete(client, tokens["crew"], wo_id, note="Done")
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["message"] == "Attach a photo of the finished work."
    assert body["errors"] == {"photo": ["Attach a photo of the finished work."]}
    assert fresh(sr).status == "assigned"
    assert db.session.get(WorkOrder, wo_id).status == "assigned"
    assert order_photos(wo_id) == []


def test_a_file_that_is_not_an_image_is_refused(client, city, tokens):
    sr = submit()
    wo_id = dispatch(client, tokens["dispatcher"], [sr.id], city.crew_a.id).get_json()["id"]
    resp = complete(client, tokens["crew"], wo_id, photo=photo_upload(b"%PDF-1.4 nope", "x.jpg"))
    assert resp.status_code == 400
    assert "photo" in resp.get_json()["errors"]
    assert fresh(sr).status == "assigned"
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 0


def test_completing_twice_is_a_conflict_and_start_is_safe_to_retry(client, city, tokens):
    sr = submit()
    wo_id = dispatch(client, tokens["dispatcher"], [sr.id], city.crew_a.id).get_json()["id"]
    for _ in range(2):
        resp = client.post(f"/api/v1/workorders/{wo_id}/start", headers=bearer(tokens["crew"]))
        assert resp.status_code == 200
    assert event_kinds(fresh(sr)).count("status_changed") == 1
    assert complete(client, tokens["crew"], wo_id, photo=photo_upload()).status_code == 200
    again = complete(client, tokens["crew"], wo_id, photo=photo_upload())
    assert again.status_code == 409
    assert "already completed" in again.get_json()["message"]
    assert len(order_photos(wo_id)) == 1
    late = client.post(f"/api/v1/workorders/{wo_id}/start", headers=bearer(tokens["crew"]))
    assert late.status_code == 409


@pytest.mark.parametrize(
    "case, status, message",
    [
        ("empty", 400, "at least one request"),
        ("duplicate", 400, "listed more than once"),
        ("unknown", 404, "There is no service request 999999"),
        ("closed", 409, "already closed"),
        ("other_department", 400, "belongs to Parks and Recreation"),
        ("inactive_crew", 400, "is not active"),
        ("unknown_crew", 404, "There is no crew"),
    ],
)
def test_bad_dispatches_are_refused_and_store_nothing(client, city, tokens, case, status, message):
    from app.requests import service as requests_service

    sr = submit()
    ids, crew_id = [sr.id], city.crew_a.id
    if case == "empty":
        ids = []
    elif case == "duplicate":
        ids = [sr.id, sr.id]
    elif case == "unknown":
        ids = [sr.id, 999999]
    elif case == "closed":
        requests_service.close(sr, reason="no_action_needed", actor_id=None, note="Not ours")
    elif case == "other_department":
        ids = [sr.id, submit("graffiti").id]
    elif case == "inactive_crew":
        city.crew_a.active = False
    elif case == "unknown_crew":
        crew_id = 424242
    db.session.flush()

    resp = dispatch(client, tokens["manager"], ids, crew_id)
    assert resp.status_code == status, resp.get_json()
    assert message in resp.get_json()["message"]
    assert order_count() == 0
    assert event_kinds(fresh(sr)).count("assigned") == 0


def test_a_request_on_an_open_order_cannot_be_dispatched_again(client, city, tokens):
    sr, other = submit(), submit()
    first = dispatch(client, tokens["dispatcher"], [sr.id], city.crew_a.id).get_json()["id"]
    resp = dispatch(client, tokens["dispatcher"], [other.id, sr.id], city.crew_b.id)
    assert resp.status_code == 409
    body = resp.get_json()
    assert body["message"] == f"Request {sr.id} is already on open work order #{first}."
    assert body["work_order_ids"] == [first]
    assert order_count() == 1
    assert fresh(other).status == "new"


def test_malformed_body_gets_422_with_field_errors(client, city, tokens):
    resp = client.post(
        "/api/v1/workorders",
        json={"request_ids": ["abc"], "instructions": "x"},
        headers=bearer(tokens["dispatcher"]),
    )
    assert resp.status_code == 422
    errors = resp.get_json()["errors"]["json"]
    assert "crew_id" in errors and "request_ids" in errors


def test_without_credentials_every_endpoint_answers_401(client, city):
    sr = submit()
    for method, path in [
        ("get", "/api/v1/crews"),
        ("get", "/api/v1/workorders"),
        ("post", "/api/v1/workorders"),
        ("get", "/api/v1/workorders/1"),
        ("post", "/api/v1/workorders/1/start"),
        ("post", "/api/v1/workorders/1/complete"),
        ("post", "/api/v1/workorders/1/cancel"),
    ]:
        resp = getattr(client, method)(path, json={"request_ids": [sr.id], "crew_id": 1})
        assert resp.status_code == 401, path
        assert "Bearer" in resp.get_json()["message"]


def test_roles_and_crews_are_enforced(client, city, tokens):
    sr = submit()
    assert dispatch(client, tokens["agent"], [sr.id], city.crew_a.id).status_code == 403
    assert dispatch(client, tokens["crew"], [sr.id], city.crew_a.id).status_code == 403
    # a parks dispatcher can neither send a PWD crew nor send their own crew to PWD work
    resp = dispatch(client, tokens["parks_dispatcher"], [sr.id], city.crew_a.id)
    assert resp.status_code == 403 and "own department" in resp.get_json()["message"]
    resp = dispatch(client, tokens["parks_dispatcher"], [sr.id], city.parks_crew.id)
    assert resp.status_code == 403 and "own department" in resp.get_json()["message"]
    assert order_count() == 0

    wo_id = dispatch(client, tokens["dispatcher"], [sr.id], city.crew_a.id).get_json()["id"]
    intruder = bearer(tokens["crew_b"])
    assert client.get(f"/api/v1/workorders/{wo_id}", headers=intruder).status_code == 403
    assert client.post(f"/api/v1/workorders/{wo_id}/start", headers=intruder).status_code == 403
    resp = complete(client, tokens["crew_b"], wo_id, photo=photo_upload())
    assert resp.status_code == 403
    assert "Pothole crew A" in resp.get_json()["message"]
    parks = bearer(tokens["parks_dispatcher"])
    assert client.post(f"/api/v1/workorders/{wo_id}/start", headers=parks).status_code == 403
    assert fresh(sr).status == "assigned" and order_photos(wo_id) == []

    own = client.get(f"/api/v1/workorders/{wo_id}", headers=bearer(tokens["crew"]))
    assert own.status_code == 200 and own.get_json()["id"] == wo_id
    assert "rita@example.org" not in own.get_data(as_text=True)
    assert "Rita Reporter" not in own.get_data(as_text=True)
    # a dispatcher may close out for a crew that has no signal
    assert complete(client, tokens["dispatcher"], wo_id, photo=photo_upload()).status_code == 200


def test_crews_are_listed_per_department_with_open_order_counts(client, city, tokens):
    sr = submit()
    dispatch(client, tokens["dispatcher"], [sr.id], city.crew_a.id)

    resp = client.get("/api/v1/crews", headers=bearer(tokens["dispatcher"]))
    assert resp.status_code == 200
    assert resp.get_json() == [
        {
            "id": city.crew_a.id,
            "name": "Pothole crew A",
            "department": {"code": "PWD", "name": "Public Works"},
            "active": True,
            "open_work_orders": 1,
        },
        {
            "id": city.crew_b.id,
            "name": "Pothole crew B",
            "department": {"code": "PWD", "name": "Public Works"},
            "active": True,
            "open_work_orders": 0,
        },
    ]
    everyone = client.get("/api/v1/crews", headers=bearer(tokens["manager"])).get_json()
    assert {c["name"] for c in everyone} == {"Pothole crew A", "Pothole crew B", "Parks crew"}
    parks = client.get("/api/v1/crews?department=PARKS", headers=bearer(tokens["admin"]))
    assert [c["name"] for c in parks.get_json()] == ["Parks crew"]
    denied = client.get("/api/v1/crews?department=PARKS", headers=bearer(tokens["dispatcher"]))
    assert denied.status_code == 403
    assert client.get("/api/v1/crews", headers=bearer(tokens["crew"])).status_code == 403


def test_listing_work_orders_is_scoped_by_role(client, city, tokens):
    a = dispatch(client, tokens["dispatcher"], [submit().id], city.crew_a.id).get_json()["id"]
    b = dispatch(client, tokens["dispatcher"], [submit().id], city.crew_b.id).get_json()["id"]
    p = dispatch(
        client, tokens["parks_dispatcher"], [submit("graffiti").id], city.parks_crew.id
    ).get_json()["id"]
    client.post(f"/api/v1/workorders/{b}/start", headers=bearer(tokens["crew_b"]))

    def ids(token, query=""):
        resp = client.get(f"/api/v1/workorders{query}", headers=bearer(token))
        assert resp.status_code == 200, resp.get_json()
        return [wo["id"] for wo in resp.get_json()]

    assert ids(tokens["crew"]) == [a]
    assert sorted(ids(tokens["dispatcher"])) == sorted([a, b])
    assert ids(tokens["dispatcher"], "?status=in_progress") == [b]
    assert ids(tokens["dispatcher"], f"?crew_id={city.crew_a.id}") == [a]
    assert ids(tokens["parks_dispatcher"]) == [p]
    assert sorted(ids(tokens["manager"])) == sorted([a, b, p])
    assert ids(tokens["manager"], "?department=PARKS") == [p]

    other_crew = f"/api/v1/workorders?crew_id={city.crew_b.id}"
    assert client.get(other_crew, headers=bearer(tokens["crew"])).status_code == 403
    bad = client.get("/api/v1/workorders?status=done", headers=bearer(tokens["manager"]))
    assert bad.status_code == 422 and "status" in bad.get_json()["errors"]["query"]
    assert client.get("/api/v1/workorders", headers=bearer(tokens["agent"])).status_code == 403
    missing = client.get("/api/v1/workorders/987654", headers=bearer(tokens["manager"]))
    assert missing.status_code == 404


def test_cancel_returns_requests_to_the_queue_and_keeps_the_reason_internal(client, city, tokens):
    waiting, started = submit(), submit()
    first = dispatch(client, tokens["dispatcher"], [waiting.id], city.crew_a.id).get_json()["id"]
    second = dispatch(client, tokens["dispatcher"], [started.id], city.crew_b.id).get_json()["id"]
    client.post(f"/api/v1/workorders/{second}/start", headers=bearer(tokens["crew_b"]))

    for wo_id in (first, second):
        resp = client.post(
            f"/api/v1/workorders/{wo_id}/cancel",
            json={"reason": "Truck broke down"},
            headers=bearer(tokens["dispatcher"]),
        )
        assert resp.status_code == 200, resp.get_json()
        assert resp.get_json()["status"] == "cancelled"
    assert fresh(waiting).status == "acknowledged"
    assert fresh(started).status == "acknowledged"
    notes = events(fresh(waiting), "note")
    assert [(n.note, n.public) for n in notes] == [
        (f"Work order #{first} cancelled: Truck broke down", False)
    ]
    public_text = " ".join(e.note for e in fresh(waiting).events if e.public)
    assert "Truck" not in public_text

    # both can be dispatched again
    resp = dispatch(client, tokens["dispatcher"], [waiting.id, started.id], city.crew_a.id)
    assert resp.status_code == 201, resp.get_json()
    assert fresh(started).status == "assigned"

    crew_cancel = client.post(
        f"/api/v1/workorders/{resp.get_json()['id']}/cancel",
        json={"reason": "nope"},
        headers=bearer(tokens["crew"]),
    )
    assert crew_cancel.status_code == 403
    blank = client.post(
        f"/api/v1/workorders/{first}/cancel", json={"reason": ""}, headers=bearer(tokens["admin"])
    )
    assert blank.status_code == 422


def test_openapi_documents_the_endpoints_with_bearer_security(client, city):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, method in [
        ("/api/v1/crews", "get"),
        ("/api/v1/workorders", "post"),
        ("/api/v1/workorders", "get"),
        ("/api/v1/workorders/{work_order_id}", "get"),
        ("/api/v1/workorders/{work_order_id}/start", "post"),
        ("/api/v1/workorders/{work_order_id}/complete", "post"),
    ]:
        assert spec["paths"][path][method]["security"] == [{"bearerAuth": []}]
    body = spec["paths"]["/api/v1/workorders/{work_order_id}/complete"]["post"]["requestBody"]
    assert "multipart/form-data" in body["content"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_a_work_order_carries_its_priority_day_and_place(client, city, tokens):
    from app.extensions import db
    from app.workorders.models import WorkOrder
    from tests.factories import submit
    from tests.helpers import bearer

    first, second = submit(), submit()
    made = client.post(
        "/api/v1/workorders",
        json={
            "request_ids": [first.id, second.id],
            "crew_id": city.crew_a.id,
            "priority": "urgent",
            "scheduled_for": "2026-12-02",
        },
        headers=bearer(tokens["dispatcher"]),
    )
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert (body["priority"], body["scheduled_for"]) == ("urgent", "2026-12-02")
    wo = db.session.get(WorkOrder, body["id"])
    assert db.session.scalar(
        db.select(db.func.ST_Equals(WorkOrder.location, first.location)).where(
            WorkOrder.id == wo.id
        )
    )
    bad = client.post(
        "/api/v1/workorders",
        json={"request_ids": [second.id], "crew_id": city.crew_a.id, "priority": "asap"},
        headers=bearer(tokens["dispatcher"]),
    )
    assert bad.status_code == 422 and "priority must be one of" in bad.get_data(as_text=True)

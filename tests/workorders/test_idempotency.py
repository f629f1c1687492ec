"""Idempotency-Key on start and complete: a retry gets the first answer and changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from app.core.idempotency import IdempotencyKey
from app.extensions import db
from app.notifications import tasks
from app.workorders.models import WorkOrder
from tests.helpers import bearer
from tests.workorders.helpers import (
    closed_notices,
    complete_api,
    dispatch_api,
    event_kinds,
    fresh,
    order_photos,
    photo_upload,
    submit,
)


def new_order(client, city, tokens, sr) -> int:
    wo_id = dispatch_api(client, tokens["dispatcher"], [sr.id], city.crew_a.id).get_json()["id"]
    db.session.commit()
    return wo_id


def start_api(client, token, wo_id, key=None):
    headers = bearer(token) | ({"Idempotency-Key": key} if key else {})
    return client.post(f"/api/v1/workorders/{wo_id}/start", headers=headers)


def test_a_retried_completion_gets_the_first_answer_and_one_email(client, city, tokens, mailbox):
    sr = submit(email="resident@example.org")
    wo_id = new_order(client, city, tokens, sr)

    first = complete_api(
        client, tokens["crew"], wo_id, key="phone-1-complete", photo=photo_upload(), note="Done"
    )
    assert first.status_code == 200, first.get_json()
    assert "Idempotent-Replayed" not in first.headers
    again = complete_api(
        client, tokens["crew"], wo_id, key="phone-1-complete", photo=photo_upload(), note="Again?"
    )
    assert again.status_code == 200
    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["completion_note"] == "Done"

    assert len(order_photos(wo_id)) == 1
    assert event_kinds(fresh(sr)).count("closed") == 1
    (notice,) = closed_notices(sr.id)
    assert tasks.deliver(notice.id) == "sent"
    fixed = [m for m in mailbox.wait_for(1, timeout=1) if "is fixed" in m["Subject"]]
    assert [m["To"] for m in fixed] == ["resident@example.org"]

    other_key = complete_api(
        client, tokens["crew"], wo_id, key="phone-1-complete-2", photo=photo_upload()
    )
    assert other_key.status_code == 409
    assert "already completed" in other_key.get_json()["message"]
    no_key = complete_api(client, tokens["crew"], wo_id, photo=photo_upload())
    assert no_key.status_code == 409


def test_a_refused_attempt_may_be_sent_again_corrected_under_the_same_key(client, city, tokens):
    sr = submit()
    wo_id = new_order(client, city, tokens, sr)
    refused = complete_api(client, tokens["crew"], wo_id, key="k-1", note="forgot the photo")
    assert refused.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
    assert fresh(sr).status == "assigned"

    fixed = complete_api(client, tokens["crew"], wo_id, key="k-1", photo=photo_upload())
    assert fixed.status_code == 200, fixed.get_json()
    assert fresh(sr).status == "closed"


def test_start_with_a_key_replays_and_keys_are_per_action(client, city, tokens):
    sr = submit()
    wo_id = new_order(client, city, tokens, sr)
    first = start_api(client, tokens["crew"], wo_id, key="start-1")
    assert first.status_code == 200 and first.get_json()["status"] == "in_progress"
    again = start_api(client, tokens["crew"], wo_id, key="start-1")
    assert (again.status_code, again.get_data()) == (200, first.get_data())
    assert event_kinds(fresh(sr)).count("status_changed") == 1

    reused = complete_api(client, tokens["crew"], wo_id, key="start-1", photo=photo_upload())
    assert reused.status_code == 422
    assert "send a new key for each action" in reused.get_json()["message"]
    assert db.session.get(WorkOrder, wo_id).status == "in_progress"

    # keys belong to their user: another user's same key is a new action
    by_dispatcher = complete_api(
        client, tokens["dispatcher"], wo_id, key="start-1", photo=photo_upload()
    )
    assert by_dispatcher.status_code == 200
    late = start_api(client, tokens["crew"], wo_id, key="start-2")
    assert late.status_code == 409
    assert start_api(client, tokens["crew"], wo_id, key="start-1").status_code == 200


def test_a_key_longer_than_allowed_is_refused(client, city, tokens):
    wo_id = new_order(client, city, tokens, submit())
    resp = start_api(client, tokens["crew"], wo_id, key="k" * 201)
    assert resp.status_code == 400 and "longer than 200" in resp.get_json()["message"]
    assert db.session.get(WorkOrder, wo_id).status == "assigned"


def test_the_openapi_documents_the_header(client, city):
    spec = client.get("/api/v1/openapi.json").get_json()
    for action in ("start", "complete", "photos"):
        operation = spec["paths"][f"/api/v1/workorders/{{work_order_id}}/{action}"]["post"]
        headers = [p for p in operation["parameters"] if p["in"] == "header"]
        assert [h["name"] for h in headers] == ["Idempotency-Key"], action
    crews = spec["paths"]["/api/v1/crews/{crew_id}/workorders"]["get"]
    assert {p["name"] for p in crews["parameters"] if p["in"] == "query"} >= {"lat", "long"}

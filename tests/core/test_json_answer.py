"""The hot endpoints write their JSON without their schema's dump: each answer must still be
exactly what its documented schema says (core.apidocs.json_answer)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from marshmallow import Schema

from app.core.apidocs import json_answer
from app.extensions import db
from app.requests import service
from app.requests.queue_schemas import QueueItemOut
from app.requests.schemas import SubmittedOut
from app.requests.staff_schemas import RequestListItemOut
from tests.factories import WARD_1_POINT, WARD_2_POINT, jpeg_bytes, submit
from tests.helpers import bearer
from tests.requests.test_api import post_form


def assert_documented(schema: Schema, body: dict[str, Any], *, optional: frozenset = frozenset()):
    """The body has the schema's fields (no more, no fewer) with the values it would write."""
    assert set(body) | optional == set(schema.fields), body
    # loading checks each value's type (dates with their zone, nested objects); dumping
    # what was loaded writes it as the schema does: the two must agree to the character
    assert schema.dump(schema.load(body)) == body


def test_the_intake_answer_is_what_submitted_out_documents(client, city):
    point = {"lat": WARD_1_POINT[0], "long": WARD_1_POINT[1]}
    plain = client.post(
        "/api/v1/requests",
        json={"service_code": "pothole", "description": "Hole", "email": "a@example.org", **point},
    )
    assert plain.status_code == 201
    assert plain.mimetype == "application/json"
    assert_documented(SubmittedOut(), plain.get_json())

    # a photo with GPS tags: photo_url, photo_urls and photo_location (a nested date) filled
    fields = {"service_code": "pothole", "description": "Hole", **point}
    with_photo = post_form(client, fields, photo=jpeg_bytes(gps=True))
    assert with_photo.status_code == 201
    body = with_photo.get_json()
    assert body["photo_url"] and body["photo_location"]
    assert_documented(SubmittedOut(), body)


def test_a_queue_page_is_what_queue_item_out_documents(client, city, tokens):
    first = submit()  # with the factory's reporter: name, email and phone
    first.crew_id = city.crew_a.id  # routing proposed a crew
    submit()  # close by: a likely duplicate
    submit(point=WARD_2_POINT)
    db.session.commit()

    resp = client.get("/api/v1/departments/PWD/queue", headers=bearer(tokens["dispatcher"]))
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    items = resp.get_json()
    assert len(items) == 3
    assert {item["proposed_crew"] is None for item in items} == {True, False}
    for item in items:
        assert_documented(QueueItemOut(), item, optional={"distance_m"})

    near = client.get(
        "/api/v1/departments/PWD/queue",
        headers=bearer(tokens["dispatcher"]),
        query_string={"lat": WARD_1_POINT[0], "long": WARD_1_POINT[1], "sort": "distance"},
    )
    for item in near.get_json():
        assert_documented(QueueItemOut(), item)


def test_a_value_json_cannot_write_is_a_clear_error(app):
    with app.app_context(), pytest.raises(TypeError, match="Decimal is not JSON"):
        json_answer({"amount": Decimal("1.5")})


def test_a_staff_search_page_is_what_request_list_item_out_documents(client, city, tokens):
    open_one = submit()
    closed = submit(point=WARD_2_POINT)
    service.close(closed, reason="fixed", actor_id=None)
    db.session.commit()

    resp = client.get(
        "/api/v1/requests", headers=bearer(tokens["agent"]), query_string={"q": "rita@example.org"}
    )
    assert resp.status_code == 200
    items = resp.get_json()
    assert {item["id"] for item in items} == {open_one.id, closed.id}
    assert {item["closure_reason"] for item in items} == {None, "fixed"}
    for item in items:
        assert_documented(RequestListItemOut(), item)

"""Close-out through the API: hours, materials, before/after photos, the photo rule, duplicates."""

from __future__ import annotations

import json

import pytest

from app.extensions import db
from app.notifications import tasks
from app.requests import service as requests_service
from app.workorders.models import WorkOrder
from tests.helpers import bearer
from tests.notifications.conftest import parts
from tests.workorders.helpers import (
    closed_notices,
    complete_api,
    dispatch_api,
    events,
    fresh,
    order_photos,
    photo_upload,
    submit,
)


def new_order(client, city, tokens, *srs, crew=None) -> int:
    resp = dispatch_api(
        client, tokens["dispatcher"], [sr.id for sr in srs], (crew or city.crew_a).id
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def add_photo(client, token, wo_id, kind, photo=None):
    return client.post(
        f"/api/v1/workorders/{wo_id}/photos",
        data={"kind": kind, "photo": photo or photo_upload()},
        content_type="multipart/form-data",
        headers=bearer(token),
    )


def merge(sr, into, actor) -> None:
    """Close `sr` as a duplicate of `into`, as the merge verb does."""
    requests_service.close(
        fresh(sr), reason="duplicate", actor_id=actor.id, note=f"Same problem as {into.id}."
    )
    sr = fresh(sr)
    sr.parent_id = into.id
    db.session.commit()


def test_hours_and_materials_are_stored_and_shown(client, city, tokens):
    wo_id = new_order(client, city, tokens, submit())
    materials = [
        {"name": " Cold patch ", "quantity": 2.5, "unit": "bag"},
        {"name": "Tack coat", "quantity": "3", "unit": "l"},
        {"name": "Sand", "quantity": 1},
    ]
    resp = complete_api(
        client,
        tokens["crew"],
        wo_id,
        photo=photo_upload(),
        labour_hours="1.755",
        materials=json.dumps(materials),
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["labour_hours"] == 1.76
    assert body["materials"] == [
        {"name": "Cold patch", "quantity": 2.5, "unit": "bag"},
        {"name": "Tack coat", "quantity": 3.0, "unit": "l"},
        {"name": "Sand", "quantity": 1.0, "unit": ""},
    ]
    shown = client.get(f"/api/v1/workorders/{wo_id}", headers=bearer(tokens["dispatcher"]))
    assert shown.get_json()["materials"] == body["materials"]
    assert shown.get_json()["labour_hours"] == 1.76
    wo = db.session.get(WorkOrder, wo_id)
    assert str(wo.labour_hours) == "1.76"
    assert wo.materials[0] == {"name": "Cold patch", "quantity": 2.5, "unit": "bag"}


@pytest.mark.parametrize(
    "form, field, message",
    [
        ({"labour_hours": "-1"}, "labour_hours", "from 0 to 999"),
        ({"labour_hours": "1000"}, "labour_hours", "from 0 to 999"),
        ({"labour_hours": "two"}, "labour_hours", "from 0 to 999"),
        ({"labour_hours": "NaN"}, "labour_hours", "from 0 to 999"),
        ({"materials": "cold patch"}, "materials", "JSON list"),
        ({"materials": '{"name": "x"}'}, "materials", "must be a list"),
        ({"materials": '[{"quantity": 1}]'}, "materials", "Material 1: give its name."),
        (
            {"materials": '[{"name": "a", "quantity": 1}, {"name": "b", "quantity": 0}]'},
            "materials",
            "Material 2: the quantity must be a number greater than 0.",
        ),
        ({"materials": '[{"name": "a", "quantity": "lots"}]'}, "materials", "greater than 0"),
        ({"materials": '[{"name": "a", "quantity": true}]'}, "materials", "greater than 0"),
        ({"materials": '[{"name": "a", "quantity": 1, "unit": 5}]'}, "materials", "unit"),
        (
            {"materials": '[{"name": "a", "quantity": 1, "colour": "red"}]'},
            "materials",
            "unknown field 'colour'",
        ),
    ],
)
def test_bad_hours_or_materials_are_refused_and_nothing_changes(
    client, city, tokens, form, field, message
):
    sr = submit()
    wo_id = new_order(client, city, tokens, sr)
    resp = complete_api(client, tokens["crew"], wo_id, photo=photo_upload(), **form)
    assert resp.status_code == 400, resp.get_json()
    body = resp.get_json()
    assert message in body["message"]
    assert list(body["errors"]) == [field]
    assert db.session.get(WorkOrder, wo_id).status == "assigned"
    assert fresh(sr).status == "assigned"
    assert order_photos(wo_id) == []


def test_before_and_after_photos_are_shown_by_kind(client, city, tokens):
    city.pothole.completion_photo_required = False
    sr = submit()
    wo_id = new_order(client, city, tokens, sr)
    before = add_photo(client, tokens["crew"], wo_id, "before")
    assert before.status_code == 201, before.get_json()
    photos = before.get_json()["photos"]
    assert [len(photos["before"]), len(photos["after"])] == [1, 0]
    (taken,) = order_photos(wo_id)
    assert taken.kind == "before"
    assert photos["before"][0] == {
        "id": taken.id,
        "url": f"http://city311.test/photos/{taken.id}/display.jpg",
        "thumbnail_url": f"http://city311.test/photos/{taken.id}/thumb.jpg",
    }
    assert before.get_json()["photo_url"] is None  # a before photo is not the completion photo

    done = complete_api(client, tokens["crew"], wo_id, photo=photo_upload(), note="Done")
    after = done.get_json()["photos"]["after"]
    assert len(after) == 1 and done.get_json()["photo_url"] == after[0]["url"]
    # the reporters got the after photo, never the before one
    assert events(fresh(sr), "closed")[0].data["photo_id"] == after[0]["id"]


def test_photo_uploads_are_checked(client, city, tokens):
    wo_id = new_order(client, city, tokens, submit())
    bad_kind = add_photo(client, tokens["crew"], wo_id, "during")
    assert bad_kind.status_code == 400 and "before or after" in bad_kind.get_json()["message"]
    no_file = client.post(
        f"/api/v1/workorders/{wo_id}/photos",
        data={"kind": "before"},
        content_type="multipart/form-data",
        headers=bearer(tokens["crew"]),
    )
    assert no_file.status_code == 400 and no_file.get_json()["errors"] == {
        "photo": ["Attach the photo."]
    }
    not_image = add_photo(client, tokens["crew"], wo_id, "before", photo_upload(b"GIF89a?"))
    assert not_image.status_code == 400
    assert add_photo(client, tokens["crew_b"], wo_id, "before").status_code == 403
    assert add_photo(client, tokens["agent"], wo_id, "before").status_code == 403
    assert order_photos(wo_id) == []
    complete_api(client, tokens["crew"], wo_id, photo=photo_upload())
    late = add_photo(client, tokens["crew"], wo_id, "after")
    assert late.status_code == 409 and "takes no more photos" in late.get_json()["message"]
    assert len(order_photos(wo_id)) == 1


def test_an_after_photo_sent_first_is_the_completion_photo(client, city, tokens):
    sr = submit()
    wo_id = new_order(client, city, tokens, sr)
    after = add_photo(client, tokens["crew"], wo_id, "after").get_json()["photos"]["after"][0]
    resp = complete_api(client, tokens["crew"], wo_id, note="Patched")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["photo_url"] == after["url"]
    assert events(fresh(sr), "closed")[0].data["photo_id"] == after["id"]
    (notice,) = closed_notices(sr.id)
    assert notice.payload["photo_id"] == after["id"]


def test_the_photo_is_required_when_any_type_on_the_order_asks(client, city, tokens):
    city.streetlight.completion_photo_required = False
    light, hole = submit("streetlight"), submit()
    mixed = new_order(client, city, tokens, light, hole)
    resp = complete_api(client, tokens["crew"], mixed, note="Done")
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["errors"] == {"photo": ["Attach a photo of the finished work."]}
    assert body["required_by"] == [{"code": "pothole", "name": "Pothole"}]
    assert fresh(light).status == fresh(hole).status == "assigned"

    only_lights = new_order(client, city, tokens, submit("streetlight"), crew=city.crew_b)
    assert complete_api(client, tokens["crew_b"], only_lights).status_code == 200


def test_the_page_names_the_type_that_needs_the_photo(client, city, tokens):
    from tests.helpers import sign_in

    wo_id = new_order(client, city, tokens, submit())
    db.session.commit()
    sign_in(client, city.users["crew"])
    form = client.get(f"/crew/workorders/{wo_id}/complete").get_data(as_text=True)
    assert "Pothole needs one." in form
    resp = client.post(
        f"/crew/workorders/{wo_id}/complete", data={"note": "x"}, content_type="multipart/form-data"
    )
    assert resp.status_code == 400
    assert "Pothole needs a photo of the finished work." in resp.get_data(as_text=True)


def test_the_order_shows_the_reporters_photos_answers_and_place(client, city, tokens):
    from app.media import service as media
    from tests.factories import jpeg_bytes

    sr = submit(attributes={"size": "large"})
    photo = media.attach_photo(
        media.validate_photo(photo_upload(jpeg_bytes())[0]), kind="report", request_id=sr.id
    )
    wo_id = new_order(client, city, tokens, sr)
    (item,) = client.get(f"/api/v1/workorders/{wo_id}", headers=bearer(tokens["crew"])).get_json()[
        "requests"
    ]
    assert (item["lat"], item["long"]) == (42.32, -71.08)
    assert item["answers"] == [{"question": "How big is it?", "answer": "Larger than a plate"}]
    assert item["photos"] == [
        {
            "id": photo.id,
            "url": f"http://city311.test/photos/{photo.id}/display.jpg",
            "thumbnail_url": f"http://city311.test/photos/{photo.id}/thumb.jpg",
        }
    ]
    assert (item["parent_id"], item["hold_reason"], item["closure_reason"]) == (None, None, None)


def test_a_duplicate_closed_meanwhile_closes_its_original_with_the_photo(
    client, city, tokens, mailbox
):
    original = submit(email="first@example.org", address="1 First St")
    dup, other = submit(email="second@example.org"), submit(email="third@example.org")
    wo_id = new_order(client, city, tokens, dup, other)
    merge(dup, original, city.users["dispatcher"])

    resp = complete_api(client, tokens["crew"], wo_id, photo=photo_upload(), note="Filled.")
    assert resp.status_code == 200, resp.get_json()
    photo_id = resp.get_json()["photos"]["after"][0]["id"]
    assert resp.get_json()["outcomes"] == [
        {
            "request_id": dup.id,
            "outcome": "parent_closed",
            "message": f"Request {dup.id} was already closed as a duplicate of {original.id}; "
            f"request {original.id} closed as fixed instead.",
            "parent_id": original.id,
            "closed_request_id": original.id,
        },
        {
            "request_id": other.id,
            "outcome": "closed",
            "message": f"Request {other.id} closed as fixed.",
            "parent_id": None,
            "closed_request_id": None,
        },
    ]
    original = fresh(original)
    assert (original.status, original.closure_reason, original.closure_note) == (
        "closed",
        "fixed",
        "Filled.",
    )
    closed = events(original, "closed")[0]
    assert closed.data == {"reason": "fixed", "photo_id": photo_id, "work_order_id": wo_id}
    assert closed.actor_id == city.users["crew"].id
    assert fresh(dup).closure_reason == "duplicate"  # the duplicate keeps its own story
    assert [n.note for n in events(fresh(dup), "note")] == [
        f"Work order #{wo_id} fixed this; request {original.id} closed as fixed."
    ]

    # the original's reporter gets the crew's photo with the note
    for row in closed_notices(original.id):
        assert tasks.deliver(row.id) == "sent"
    (msg,) = [m for m in mailbox.wait_for(1) if m["To"] == "first@example.org"]
    assert msg["Subject"] == f"Your request {original.id} is fixed"
    text, _, attachments = parts(msg)
    assert "Filled." in text and len(attachments) == 1


def test_requests_closed_otherwise_are_left_alone_and_said_so(client, city, tokens):
    closed_original, original_elsewhere = submit(), submit()
    dup, dismissed = submit(), submit()
    wo_id = new_order(client, city, tokens, dup, dismissed)
    requests_service.close(fresh(closed_original), reason="fixed", actor_id=None)
    merge(dup, closed_original, city.users["dispatcher"])
    requests_service.close(
        fresh(dismissed), reason="no_action_needed", actor_id=None, note="Private land."
    )
    # linked to an open request, but not closed as its duplicate: that one stays open
    fresh(dismissed).parent_id = original_elsewhere.id
    db.session.commit()

    resp = complete_api(client, tokens["crew"], wo_id, photo=photo_upload())
    assert resp.status_code == 200, resp.get_json()
    assert [(o["outcome"], o["message"]) for o in resp.get_json()["outcomes"]] == [
        (
            "already_closed",
            f"Request {dup.id} was already closed as a duplicate of {closed_original.id}, "
            "which is closed too.",
        ),
        ("already_closed", f"Request {dismissed.id} was already closed (no action needed)."),
    ]
    assert len(events(fresh(closed_original), "closed")) == 1
    assert fresh(original_elsewhere).status == "new"


def test_a_chain_of_merges_closes_the_first_open_original(client, city, tokens):
    root, middle, leaf = submit(), submit(), submit()
    wo_id = new_order(client, city, tokens, leaf)
    merge(middle, root, city.users["dispatcher"])
    merge(leaf, middle, city.users["dispatcher"])
    resp = complete_api(client, tokens["crew"], wo_id, photo=photo_upload())
    (outcome,) = resp.get_json()["outcomes"]
    assert (outcome["outcome"], outcome["parent_id"], outcome["closed_request_id"]) == (
        "parent_closed",
        middle.id,
        root.id,
    )
    assert (fresh(root).status, fresh(root).closure_reason) == ("closed", "fixed")
    assert fresh(middle).closure_reason == "duplicate"

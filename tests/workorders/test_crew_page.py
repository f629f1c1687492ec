"""The crew's phone page: what a crew sees of each request, holds, and the close-out form."""

from __future__ import annotations

import re

from app.extensions import db
from app.media import service as media
from app.workorders import service
from app.workorders.models import WorkOrder
from tests.factories import jpeg_bytes
from tests.helpers import sign_in
from tests.workorders.helpers import event_kinds, events, fresh, order_photos, photo_upload, submit


def send_crew(city, srs, crew=None) -> WorkOrder:
    wo = service.create_work_order(
        [sr.id for sr in srs], (crew or city.crew_a).id, actor=city.users["dispatcher"]
    )
    db.session.commit()
    return wo


def test_the_crew_sees_the_reporters_photos_answers_and_the_way_there(client, city):
    sr = submit(attributes={"size": "small"}, media_url="https://img.example.org/hole.jpg")
    photo = media.attach_photo(
        media.validate_photo(photo_upload(jpeg_bytes())[0]), kind="report", request_id=sr.id
    )
    send_crew(city, [sr])
    sign_in(client, city.users["crew"])
    page = client.get("/crew").get_data(as_text=True)

    assert f'src="/photos/{photo.id}/thumb.jpg"' in page
    assert f'href="/photos/{photo.id}/display.jpg"' in page
    assert "<dt>How big is it?</dt><dd>Smaller than a plate</dd>" in page
    assert 'href="https://img.example.org/hole.jpg"' in page
    nav = re.search(r'<a class="navigate"[^>]*>Navigate</a>', page, re.S).group(0)
    assert 'href="geo:42.320000,-71.080000?q=42.320000,-71.080000"' in nav
    assert 'data-lat="42.320000" data-long="-71.080000"' in nav
    assert "rita@example.org" not in page and "555-0100" not in page


def test_a_crew_puts_a_request_on_hold_and_resumes_it(client, city):
    sr = submit()
    wo = send_crew(city, [sr])
    sign_in(client, city.users["crew"])
    page = client.get("/crew").get_data(as_text=True)
    assert f'action="/crew/requests/{sr.id}/hold"' in page
    assert '<option value="materials">Materials</option>' in page

    resp = client.post(
        f"/crew/requests/{sr.id}/hold", data={"reason": "materials", "note": "No cold patch left"}
    )
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/crew")
    held = fresh(sr)
    assert (held.status, held.hold_reason) == ("on_hold", "materials")
    (event,) = events(held, "held")
    assert (event.note, event.data["reason"], event.actor_id) == (
        "No cold patch left",
        "materials",
        city.users["crew"].id,
    )
    page = client.get("/crew").get_data(as_text=True)
    assert f"Request {sr.id} is on hold; its clock has stopped." in page
    assert "on hold: materials" in page
    assert f'action="/crew/requests/{sr.id}/resume"' in page
    assert f">Resume #{sr.id}</button>" in page

    # starting the order does not end the hold: that is the crew's call
    assert client.post(f"/crew/workorders/{wo.id}/start").status_code == 303
    assert fresh(sr).status == "on_hold"

    again = client.post(f"/crew/requests/{sr.id}/hold", data={"reason": "weather"})
    assert again.status_code == 303
    assert "already on hold" in client.get("/crew").get_data(as_text=True)

    assert client.post(f"/crew/requests/{sr.id}/resume").status_code == 303
    resumed = fresh(sr)
    assert resumed.status == "assigned" and resumed.held_since is None
    assert event_kinds(resumed)[-2:] == ["held", "resumed"]


def test_holds_are_for_the_departments_crews_and_need_a_known_reason(client, city):
    sr, graffiti = submit(), submit("graffiti")
    send_crew(city, [sr])
    sign_in(client, city.users["crew"])
    resp = client.post(f"/crew/requests/{sr.id}/hold", data={"reason": "lunch"})
    assert resp.status_code == 303
    assert "Unknown hold reason" in client.get("/crew").get_data(as_text=True)
    assert fresh(sr).status == "assigned"
    assert (
        client.post(f"/crew/requests/{graffiti.id}/hold", data={"reason": "weather"}).status_code
        == 403
    )
    assert client.post("/crew/requests/987654/hold", data={"reason": "weather"}).status_code == 404
    assert fresh(graffiti).status == "new"


def test_the_completion_form_takes_hours_and_materials(client, city):
    sr = submit()
    wo = send_crew(city, [sr])
    sign_in(client, city.users["crew"])
    form = client.get(f"/crew/workorders/{wo.id}/complete").get_data(as_text=True)
    assert form.count('name="material_name"') == 3
    assert 'name="labour_hours"' in form and 'max="999"' in form

    bad = client.post(
        f"/crew/workorders/{wo.id}/complete",
        data={
            "photo": photo_upload(),
            "labour_hours": "2",
            "material_name": ["Cold patch", "Sand"],
            "material_quantity": ["3", "0"],
            "material_unit": ["bag", "kg"],
        },
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400
    page = bad.get_data(as_text=True)
    assert "Material 2: the quantity must be a number greater than 0." in page
    assert 'value="Cold patch"' in page and 'value="Sand"' in page and 'value="2"' in page
    assert fresh(sr).status == "assigned"

    ok = client.post(
        f"/crew/workorders/{wo.id}/complete",
        data={
            "photo": photo_upload(),
            "labour_hours": "2.5",
            "material_name": ["Cold patch", "", ""],
            "material_quantity": ["3", "", ""],
            "material_unit": ["bag", "", ""],
        },
        content_type="multipart/form-data",
    )
    assert ok.status_code == 303
    done = db.session.get(WorkOrder, wo.id)
    assert (str(done.labour_hours), done.materials) == (
        "2.50",
        [{"name": "Cold patch", "quantity": 3, "unit": "bag"}],
    )


def test_the_flash_tells_the_crew_what_became_of_a_merged_request(client, city):
    from app.requests import service as requests_service

    original, dup = submit(), submit()
    wo = send_crew(city, [dup])
    requests_service.close(fresh(dup), reason="duplicate", actor_id=None, note="Same as before")
    fresh(dup).parent_id = original.id
    db.session.commit()
    sign_in(client, city.users["crew"])
    resp = client.post(
        f"/crew/workorders/{wo.id}/complete",
        data={"photo": photo_upload()},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 303
    home = client.get("/crew").get_data(as_text=True)
    assert f"Work order #{wo.id} completed; 1 request closed" in home
    assert (
        f"Request {dup.id} was already closed as a duplicate of {original.id}; "
        f"request {original.id} closed as fixed instead."
    ) in home
    assert fresh(original).status == "closed"


def test_the_crew_adds_a_photo_of_the_site_from_the_page(client, city):
    wo = send_crew(city, [submit()])
    sign_in(client, city.users["crew"])
    page = client.get("/crew").get_data(as_text=True)
    assert f'action="/crew/workorders/{wo.id}/photos"' in page
    resp = client.post(
        f"/crew/workorders/{wo.id}/photos",
        data={"kind": "before", "photo": photo_upload()},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 303
    assert [p.kind for p in order_photos(wo.id)] == ["before"]
    assert f"Photo added to work order #{wo.id}." in client.get("/crew").get_data(as_text=True)

    empty = client.post(
        f"/crew/workorders/{wo.id}/photos",
        data={"kind": "before", "photo": (photo_upload(b"")[0], "")},
        content_type="multipart/form-data",
    )
    assert empty.status_code == 303
    assert "Choose a photo to add." in client.get("/crew").get_data(as_text=True)
    sign_in(client, city.users["crew_b"])
    stranger = client.post(
        f"/crew/workorders/{wo.id}/photos",
        data={"kind": "before", "photo": photo_upload()},
        content_type="multipart/form-data",
    )
    assert stranger.status_code == 403
    assert len(order_photos(wo.id)) == 1

"""The dispatch queue, the crew's phone page and the completion form, through the test client."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from app.extensions import db
from app.requests import service as requests_service
from app.requests.models import MAX_TEXT
from app.workorders import service
from app.workorders.models import WorkOrder
from tests.helpers import sign_in
from tests.workorders.helpers import (
    event_kinds,
    fresh,
    make_overdue,
    order_photos,
    photo_upload,
    raw_photo_body,
    submit,
)


def send_crew(city, request_ids, crew=None) -> WorkOrder:
    wo = service.create_work_order(
        request_ids, (crew or city.crew_a).id, actor=city.users["dispatcher"]
    )
    db.session.commit()
    return wo


def test_dispatch_queue_shows_overdue_requests_first_with_city_times(client, app, city):
    _later, overdue = submit(address="1 Late Ln"), submit("streetlight", address="9 Dark Rd")
    make_overdue(overdue)
    taken = submit(address="5 Busy Blvd")
    wo = send_crew(city, [taken.id])
    submit("graffiti", address="7 Park Path")
    sign_in(client, city.users["dispatcher"])

    resp = client.get("/dispatch")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert page.index("9 Dark Rd") < page.index("1 Late Ln")
    assert "7 Park Path" not in page  # another department's request
    assert 'class="badge overdue"' in page
    assert f'name="request_id" value="{overdue.id}"' in page
    assert f'name="request_id" value="{taken.id}"' not in page
    assert f'href="#wo-{wo.id}"' in page and f'id="wo-{wo.id}"' in page
    assert "Pothole crew A" in page and "Parks crew" not in page
    city_due = overdue.due_at.astimezone(ZoneInfo(app.config["CITY_TIMEZONE"]))
    assert city_due.strftime("%b %d, %Y %H:%M") in page
    assert "rita@example.org" not in page and "555-0100" not in page
    assert 'class="table-wrap"' in page


def test_managers_choose_the_department(client, city):
    submit("graffiti", address="7 Park Path")
    submit(address="1 Late Ln")
    sign_in(client, city.users["manager"])
    page = client.get("/dispatch?department=PARKS").get_data(as_text=True)
    assert "7 Park Path" in page and "1 Late Ln" not in page
    assert '<option value="PARKS" selected>' in page
    assert client.get("/dispatch?department=NOPE").status_code == 404


def test_dispatch_pages_are_for_dispatchers(client, city):
    assert client.get("/dispatch").status_code == 302  # to the sign-in page
    sign_in(client, city.users["crew"])
    assert client.get("/dispatch").status_code == 403
    sign_in(client, city.users["agent"])
    assert client.get("/dispatch").status_code == 403
    assert client.get("/crew").status_code == 403


def test_dispatch_form_creates_a_work_order(client, city):
    first, second = submit(), submit()
    sign_in(client, city.users["dispatcher"])
    resp = client.post(
        "/dispatch/workorders",
        data={
            "department": "PWD",
            "request_id": [str(first.id), str(second.id)],
            "crew_id": str(city.crew_b.id),
            "instructions": "Bring cold patch",
        },
    )
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith("/dispatch?department=PWD")
    (wo,) = db.session.query(WorkOrder).all()
    assert (wo.crew_id, wo.instructions) == (city.crew_b.id, "Bring cold patch")
    assert fresh(first).status == fresh(second).status == "assigned"
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert f"Work order #{wo.id} sent to Pothole crew B with 2 requests." in page
    assert f'id="wo-{wo.id}"' in page


def test_dispatch_form_errors_keep_the_selection(client, city):
    sr = submit()
    db.session.commit()
    sign_in(client, city.users["dispatcher"])
    resp = client.post(
        "/dispatch/workorders",
        data={"department": "PWD", "request_id": [str(sr.id)], "instructions": "Hurry"},
    )
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "Choose a crew." in page
    assert re.search(r'<select id="crew_id"[^>]*aria-invalid="true"', page)
    assert re.search(rf'value="{sr.id}"[^>]*checked', page)
    assert "Hurry</textarea>" in page

    resp = client.post(
        "/dispatch/workorders", data={"department": "PWD", "crew_id": str(city.crew_a.id)}
    )
    assert resp.status_code == 400
    assert "Choose at least one request" in resp.get_data(as_text=True)
    assert db.session.query(WorkOrder).count() == 0
    assert fresh(sr).status == "new"


def test_cancel_from_the_dispatch_page(client, city):
    sr = submit()
    wo = send_crew(city, [sr.id])
    sign_in(client, city.users["dispatcher"])
    resp = client.post(f"/dispatch/workorders/{wo.id}/cancel", data={"reason": "Rain"})
    assert resp.status_code == 303
    assert db.session.get(WorkOrder, wo.id).status == "cancelled"
    assert fresh(sr).status == "acknowledged"
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert f'name="request_id" value="{sr.id}"' in page


def test_crew_home_lists_the_crews_orders_with_map_links(client, city):
    sr = submit(description="Deep hole by the bus stop", address="12 Main St")
    wo = send_crew(city, [sr.id])
    other = send_crew(city, [submit(address="99 Other Way").id], crew=city.crew_b)
    sign_in(client, city.users["crew"])

    resp = client.get("/crew")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert f"Work order #{wo.id}" in page and f"Work order #{other.id}" not in page
    assert "Deep hole by the bus stop" in page and "12 Main St" in page
    assert 'href="geo:42.320000,-71.080000?q=42.320000,-71.080000"' in page
    assert "openstreetmap.org/?mlat=42.320000&amp;mlon=-71.080000" in page
    assert f'action="/crew/workorders/{wo.id}/start"' in page
    assert f'href="/crew/workorders/{wo.id}/complete"' in page
    assert "rita@example.org" not in page and "Rita Reporter" not in page
    sign_in(client, city.users["dispatcher"])
    assert client.get("/crew").status_code == 403


def test_crew_starts_and_completes_from_the_phone(client, city):
    sr = submit()
    wo = send_crew(city, [sr.id])
    sign_in(client, city.users["crew"])

    resp = client.post(f"/crew/workorders/{wo.id}/start")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/crew")
    assert fresh(sr).status == "in_progress"

    form = client.get(f"/crew/workorders/{wo.id}/complete")
    assert form.status_code == 200
    page = form.get_data(as_text=True)
    assert 'accept="image/*" capture="environment"' in page
    assert "(required)" in page and 'enctype="multipart/form-data"' in page

    resp = client.post(
        f"/crew/workorders/{wo.id}/complete",
        data={"note": "Patched", "photo": photo_upload()},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/crew")
    sr = fresh(sr)
    assert (sr.status, sr.closure_reason, sr.closure_note) == ("closed", "fixed", "Patched")
    assert event_kinds(sr)[-1] == "closed"
    assert len(order_photos(wo.id)) == 1
    home = client.get("/crew").get_data(as_text=True)
    assert "request closed" in home
    assert "Completed in the last 7 days (1)" in home and "Patched" in home


def test_completion_form_without_the_photo_is_shown_again_with_the_error(client, city):
    sr = submit()
    wo = send_crew(city, [sr.id])
    sign_in(client, city.users["crew"])
    resp = client.post(
        f"/crew/workorders/{wo.id}/complete",
        data={"note": "All done", "photo": (photo_upload(b"")[0], "")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "Attach a photo of the finished work." in page
    assert re.search(r'id="photo"[^>]*aria-invalid="true"', page)
    assert "All done</textarea>" in page
    assert fresh(sr).status == "assigned"
    assert db.session.get(WorkOrder, wo.id).status == "assigned"
    assert order_photos(wo.id) == []


def test_completion_photo_over_the_limit_is_refused_with_413(client, app, city):
    sr = submit()
    wo = send_crew(city, [sr.id])
    sign_in(client, city.users["crew"])
    body, content_type = raw_photo_body(b"\xff\xd8" + b"0" * (app.config["MAX_PHOTO_BYTES"] + 10))
    resp = client.post(f"/crew/workorders/{wo.id}/complete", data=body, content_type=content_type)
    assert resp.status_code == 413
    assert "too large" in resp.get_data(as_text=True)
    assert fresh(sr).status == "assigned"


def test_another_crew_cannot_open_the_completion_form(client, city):
    wo = send_crew(city, [submit().id])
    sign_in(client, city.users["crew_b"])
    assert client.get(f"/crew/workorders/{wo.id}/complete").status_code == 403
    assert client.post(f"/crew/workorders/{wo.id}/start").status_code == 403
    assert db.session.get(WorkOrder, wo.id).status == "assigned"


def test_upload_over_the_request_limit_gets_the_form_back_with_413(client, app, city):
    sr = submit()
    wo = send_crew(city, [sr.id])
    sign_in(client, city.users["crew"])
    body, content_type = raw_photo_body(b"0" * (app.config["MAX_CONTENT_LENGTH"] + 10))
    resp = client.post(f"/crew/workorders/{wo.id}/complete", data=body, content_type=content_type)
    assert resp.status_code == 413
    page = resp.get_data(as_text=True)
    assert "The upload is too large" in page and 'id="photo"' in page
    assert fresh(sr).status == "assigned"


def _part_with(page: str, separator: str, text: str) -> str:
    (part,) = [p for p in page.split(separator) if text in p]
    return part


def test_only_overdue_requests_wear_the_badge_on_the_queue_and_the_crew_page(client, city):
    on_time, late = submit(address="1 Early Ln"), submit(address="9 Late Rd")
    make_overdue(late)
    closed_late = submit(address="5 Done Ct")
    make_overdue(closed_late)
    wo = send_crew(city, [on_time.id, late.id, closed_late.id])
    sign_in(client, city.users["dispatcher"])
    queue = client.get("/dispatch").get_data(as_text=True)
    assert 'class="badge overdue"' in _part_with(queue, "<tr>", "9 Late Rd")
    assert 'class="badge overdue"' not in _part_with(queue, "<tr>", "1 Early Ln")

    # closed past its due time: no longer overdue
    requests_service.close(
        fresh(closed_late),
        reason="no_action_needed",
        actor_id=city.users["dispatcher"].id,
        note="Already repaired by the utility.",
    )
    db.session.commit()
    sign_in(client, city.users["crew"])
    home = client.get("/crew").get_data(as_text=True)
    assert f"Work order #{wo.id}" in home
    assert 'class="badge overdue"' in _part_with(home, "<li>", "9 Late Rd")
    assert 'class="badge overdue"' not in _part_with(home, "<li>", "1 Early Ln")
    assert 'class="badge overdue"' not in _part_with(home, "<li>", "5 Done Ct")


def test_forms_cap_text_at_the_length_the_service_accepts(client, city):
    wo = send_crew(city, [submit().id])
    submit(address="2 Waiting St")  # keeps the new-order form on the queue page
    sign_in(client, city.users["dispatcher"])
    queue = client.get("/dispatch").get_data(as_text=True)
    assert re.findall(r'name="instructions" maxlength="(\d+)"', queue) == [str(MAX_TEXT)]
    assert re.findall(r'name="reason" required maxlength="(\d+)"', queue) == [str(MAX_TEXT)]
    sign_in(client, city.users["crew"])
    form = client.get(f"/crew/workorders/{wo.id}/complete").get_data(as_text=True)
    assert re.findall(r'name="note" maxlength="(\d+)"', form) == [str(MAX_TEXT)]

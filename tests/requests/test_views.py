"""The resident form, the call-centre form and the public tracking page, on the real stack."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from app.core.clock import to_city_time
from app.extensions import db
from app.media import service as media
from app.media.models import Photo
from app.requests import service
from app.requests.models import ServiceRequest
from tests.factories import (
    OUTSIDE_POINT,
    WARD_1_POINT,
    WARD_2_POINT,
    jpeg_bytes,
    make_service_type,
    submit,
)
from tests.helpers import sign_in
from tests.requests.test_api import PII, post_form


def count_requests() -> int:
    return db.session.scalar(select(func.count()).select_from(ServiceRequest))


def form(point=WARD_2_POINT, **kw) -> dict[str, str]:
    data = {
        "service_code": "pothole",
        "description": "Deep pothole by the school crossing",
        "lat": str(point[0]),
        "long": str(point[1]),
        "address": "Corner of Elm and 5th",
        "name": "",
        "email": "",
        "phone": "",
    }
    data.update(kw)
    return data


def post_report(client, data, photo=None, url="/"):
    return post_form(client, data, photo=photo, url=url)


def html(resp) -> str:
    return resp.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# the resident form


def test_report_form_renders_for_a_phone(client, city):
    resp = client.get("/")
    assert resp.status_code == 200
    page = html(resp)
    assert '<meta name="viewport"' in page
    assert '<optgroup label="Streets">' in page
    assert '<option value="pothole"' in page and '<option value="graffiti"' in page
    assert re.search(r'<textarea id="description" name="description" maxlength="4000"', page)
    assert 'id="description-count"' in page
    assert 'type="file" id="photo" name="photo" accept="image/*" capture="environment"' in page
    assert 'name="lat"' in page and 'name="long"' in page
    assert 'id="locate"' in page and "Use my location" in page
    assert 'name="csrf_token"' in page
    assert "vendor/leaflet/leaflet.js" in page and "js/report.js" in page
    assert 'data-tile-url="https://tile.openstreetmap.org/{z}/{x}/{y}.png"' in page
    # the pothole question is on the page, for the script to show with its category
    assert 'data-service="pothole"' in page and 'name="attribute[size]"' in page
    assert "stay private" in page
    for field in ("service_code", "description", "lat", "long", "address", "name", "email"):
        assert f'<label for="{field}"' in page


def test_map_is_centred_on_the_city_districts(client, city):
    page = html(client.get("/"))
    # wards 1 and 2 together cover -71.10..-71.00 × 42.30..42.35
    assert 'data-lat="42.325"' in page
    assert 'data-long="-71.05"' in page
    assert "[[42.3, -71.1], [42.35, -71.0]]" in page.replace("&#34;", '"')


def test_resident_submits_with_photo_and_lands_on_a_tracking_page_without_pii(client, city):
    before = count_requests()
    data = form(**PII)
    data["attribute[size]"] = "large"
    resp = post_report(client, data, photo=jpeg_bytes(gps=True))
    assert resp.status_code == 303
    request_id = int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert resp.headers["Location"].endswith(f"/requests/{request_id}")
    assert count_requests() == before + 1

    sr = db.session.get(ServiceRequest, request_id)
    assert (sr.channel, sr.created_by_id, sr.district_id) == ("web", None, city.ward2.id)
    assert sr.reporter_email == PII["email"] and sr.attributes == {"size": "large"}
    photo = db.session.scalar(select(Photo).where(Photo.request_id == request_id))
    assert photo is not None

    page = html(client.get(resp.headers["Location"]))
    assert f"Thank you — your request number is {request_id}" in page
    assert f"Request {request_id}: Pothole" in page
    assert "Received" in page
    assert "Deep pothole by the school crossing" in page
    assert "Corner of Elm and 5th" in page and "Ward 2" in page
    due = to_city_time(sr.due_at)  # Babel's medium date and short time, in the city's zone
    assert f"{due:%b} {due.day}, {due.year}, {due.hour % 12 or 12}:{due:%M}\u202f{due:%p}" in page
    assert f"/photos/{photo.id}/thumb.jpg" in page
    assert "Report received" in page
    for value in PII.values():
        assert value not in page


def test_missing_input_is_shown_next_to_the_field_and_the_input_is_kept(client, city):
    before = count_requests()
    resp = post_report(client, form(description="Still here", lat="", long=""))
    assert resp.status_code == 400
    page = html(resp)
    assert "Show us where" in page
    assert re.search(r'id="lat"[^>]*aria-invalid="true"', page)
    assert "Still here</textarea>" in page
    assert 'value="Corner of Elm and 5th"' in page
    assert re.search(r'<option value="pothole"[^>]*selected', page)
    assert count_requests() == before

    resp = post_report(client, form(description="   "))
    assert resp.status_code == 400
    page = html(resp)
    assert "description is required" in page
    assert 'aria-invalid="true"' in page and 'id="description-error"' in page
    assert count_requests() == before


@pytest.mark.parametrize(
    "data, words",
    [
        (form(lat="abc"), "latitude must be a number"),
        (form(point=OUTSIDE_POINT), "outside"),
        (form(service_code=""), "Choose the category"),
        (form(service_code="sinkhole"), "Unknown service code"),
        (form(description="x" * 4001), "limit is 4000"),
        (form(email="rita@"), "not an email"),
    ],
)
def test_bad_input_re_renders_the_form_with_400_and_stores_nothing(client, city, data, words):
    before = count_requests()
    resp = post_report(client, data)
    assert resp.status_code == 400
    page = html(resp)
    assert words in page
    assert 'role="alert"' in page and 'aria-invalid="true"' in page
    assert count_requests() == before


def test_required_question_is_checked_and_kept(client, city):
    make_service_type(
        "tree_down",
        city.parks,
        name="Fallen tree",
        group="Parks",
        attributes=[
            {
                "code": "blocking",
                "description": "Is it blocking the road?",
                "datatype": "singlevaluelist",
                "required": True,
                "values": [{"key": "yes", "name": "Yes"}, {"key": "no", "name": "No"}],
            },
            {
                "code": "hazards",
                "description": "What else is there?",
                "datatype": "multivaluelist",
                "values": [{"key": "wires", "name": "Wires"}, {"key": "car", "name": "A car"}],
            },
        ],
    )
    data = form(service_code="tree_down", description="Oak across the path")
    data["attribute[hazards][]"] = "wires"
    resp = post_report(client, data)
    assert resp.status_code == 400
    page = html(resp)
    assert "Is it blocking the road?" in page and "attribute blocking" in page
    assert re.search(r'name="attribute\[blocking\]"[^>]*aria-invalid="true"', page)
    assert re.search(r'value="wires"\s+checked', page)

    data["attribute[blocking]"] = "yes"
    resp = post_report(client, data)
    assert resp.status_code == 303
    sr = db.session.get(ServiceRequest, int(resp.headers["Location"].rsplit("/", 1)[1]))
    assert sr.attributes == {"blocking": "yes", "hazards": ["wires"]}


def test_a_file_that_is_not_an_image_is_refused_with_400(client, city):
    before = count_requests()
    resp = post_report(client, form(), photo=b"just some text, not a photo")
    assert resp.status_code == 400
    page = html(resp)
    assert "not an image" in page
    assert re.search(r'id="photo"[^>]*aria-invalid="true"', page, re.S)
    assert "Deep pothole by the school crossing</textarea>" in page
    assert count_requests() == before


def test_a_photo_over_the_limit_is_refused_with_413_and_the_input_kept(app, client, city):
    before = count_requests()
    big = jpeg_bytes() + b"\0" * (app.config["MAX_PHOTO_BYTES"] + 1)
    resp = post_report(client, form(), photo=big)
    assert resp.status_code == 413
    page = html(resp)
    assert "too large" in page and "2 MB" in page
    assert "Deep pothole by the school crossing</textarea>" in page
    assert count_requests() == before


def test_a_body_over_the_content_limit_gets_the_form_back_with_413(app, client, city):
    before = count_requests()
    big = jpeg_bytes() + b"\0" * app.config["MAX_CONTENT_LENGTH"]
    resp = post_report(client, form(), photo=big)
    assert resp.status_code == 413
    assert "too large" in html(resp)
    assert count_requests() == before


# ---------------------------------------------------------------------------------------------
# the tracking page


def test_tracking_page_of_a_closed_request_shows_the_reason_note_and_fix_photo(client, city):
    sr = submit("streetlight", description="Light out all week", **PII)
    service.add_note(sr, actor_id=None, note="Crew has the ladder booked", public=False)
    fix = media.attach_photo(media.validate_photo(io.BytesIO(jpeg_bytes())), kind="after")
    service.close(sr, reason="fixed", actor_id=None, note="New bulb fitted", photo_id=fix.id)
    db.session.commit()

    resp = client.get(f"/requests/{sr.id}")
    assert resp.status_code == 200
    page = html(resp)
    assert "Closed" in page and "Fixed" in page
    assert "New bulb fitted" in page
    assert f"/photos/{fix.id}/thumb.jpg" in page
    assert "Crew has the ladder booked" not in page
    for value in PII.values():
        assert value not in page


def test_tracking_page_of_an_unknown_request_is_404(client, city):
    resp = client.get("/requests/987654321")
    assert resp.status_code == 404
    assert "no service request 987654321" in html(resp)


# ---------------------------------------------------------------------------------------------
# the call-centre form


def test_agent_form_requires_a_signed_in_agent(client, city):
    resp = client.get("/agent/requests/new")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login?next=")
    assert client.post("/agent/requests/new", data=form()).status_code == 302

    sign_in(client, city.users["crew"].email)
    assert client.get("/agent/requests/new").status_code == 403


def test_agent_logs_a_call_recorded_as_phone_by_the_agent(client, city):
    sign_in(client, city.users["agent"].email)
    page = html(client.get("/agent/requests/new"))
    assert "Caller’s details" in page
    assert 'action="/agent/requests/new"' in page

    before = count_requests()
    resp = post_report(client, form(point=WARD_1_POINT, **PII), url="/agent/requests/new")
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith("/agent/requests/new")
    assert count_requests() == before + 1
    sr = db.session.scalar(select(ServiceRequest).order_by(ServiceRequest.id.desc()).limit(1))
    assert (sr.channel, sr.created_by_id) == ("phone", city.users["agent"].id)
    assert (sr.reporter_name, sr.reporter_phone) == (PII["name"], PII["phone"])
    assert sr.events[0].actor_id == city.users["agent"].id

    again = html(client.get(resp.headers["Location"]))
    assert f"<strong>{sr.id}</strong></a> logged" in again
    assert f'href="/staff/requests/{sr.id}"' in again
    assert f'href="/requests/{sr.id}"' in again
    assert "Log the request" in again  # the form is ready for the next call


def test_agent_form_errors_keep_the_callers_details(client, city):
    sign_in(client, city.users["agent"].email)
    resp = post_report(client, form(point=OUTSIDE_POINT, **PII), url="/agent/requests/new")
    assert resp.status_code == 400
    page = html(resp)
    assert "outside" in page
    assert f'value="{PII["email"]}"' in page and f'value="{PII["phone"]}"' in page

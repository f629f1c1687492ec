"""The resident form: the category picker, every error in one round, photos kept by token,
and a submit sent twice making one request."""

from __future__ import annotations

import io
import re
import uuid
from datetime import timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from app.core.clock import to_city_time
from app.extensions import db
from app.media import uploads
from app.media.models import Photo
from app.requests.models import ServiceRequest
from app.requests.picker import fold, picker_groups
from tests.factories import WARD_2_POINT, jpeg_bytes, make_service_type, submit
from tests.helpers import sign_in
from tests.requests.test_api import post_form

REQUIRED_QUESTION = {
    "code": "depth",
    "description": "How deep is it?",
    "datatype": "string",
    "required": True,
    "order": 1,
    "variable": True,
}


def count_requests() -> int:
    return db.session.scalar(select(func.count()).select_from(ServiceRequest))


def form(**kw: str) -> dict[str, str]:
    data = {
        "service_code": "pothole",
        "description": "Deep pothole by the school crossing",
        "lat": str(WARD_2_POINT[0]),
        "long": str(WARD_2_POINT[1]),
    }
    data.update(kw)
    return data


def error_summary(resp) -> list[str]:
    page = resp.get_data(as_text=True)
    summary = page.split('id="error-summary"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r"<li><a href=\"#[^\"]+\">([^<]+)</a></li>", summary)


def upload(client, data: bytes, name: str = "p.jpg"):
    return client.post(
        "/api/v1/photos",
        data={"photo": (io.BytesIO(data), name, "image/jpeg")},
        content_type="multipart/form-data",
    )


# ---------------------------------------------------------------------------------------------
# the picker


def test_picker_lists_the_most_reported_first_and_folds_names_for_search(app, city):
    holes = make_service_type(
        "hole",
        city.public_works,
        name="Request for Pothole Repair",
        group="Highway Maintenance",
        keywords="pothole, hole, road",
    )
    for _ in range(3):
        submit("streetlight")
    submit("hole")
    app.extensions.pop("city311_picker_usage", None)  # counted per process, for a while

    popular, groups = picker_groups([city.pothole, city.streetlight, city.graffiti, holes])

    assert [c.type.code for c in popular] == ["streetlight", "hole"]
    assert [g.name for g in groups] == ["Highway Maintenance", "Streets", "Other problems"]
    streets = next(g for g in groups if g.name == "Streets")
    assert [c.type.code for c in streets.choices] == ["streetlight", "pothole"]
    hole = groups[0].choices[0]
    assert "pothole" in hole.search and "road" in hole.search
    assert fold("Árbol CAÍDO") == "arbol caido"


def test_the_form_offers_the_picker_and_keeps_the_select_without_script(client, city):
    page = client.get("/").get_data(as_text=True)
    assert 'id="category-picker"' in page
    assert 'name="category_choice" value="pothole"' in page
    assert 'data-search="pothole streets' in page
    assert '<select id="service_code" name="service_code"' in page  # no script: the select
    assert 'name="idempotency_key"' in page


def select_groups(page: str) -> list[tuple[str, list[str]]]:
    """Return the category select's optgroups: (label, option values in order)."""
    select_html = page.split('<select id="service_code"', 1)[1].split("</select>", 1)[0]
    return [
        (label, re.findall(r'<option value="([^"]+)"', options))
        for label, options in re.findall(
            r'<optgroup label="([^"]*)">(.*?)</optgroup>', select_html, re.S
        )
    ]


@pytest.mark.parametrize("path, role", [("/", None), ("/agent/requests/new", "agent")])
def test_the_select_without_script_has_the_pickers_groups_and_order(app, client, city, path, role):
    make_service_type("abandoned", city.public_works, name="Abandoned car", group="Streets")
    make_service_type("hole", city.public_works, name="Hole", group="Highway Maintenance")
    for code in ("streetlight", "streetlight", "pothole", "graffiti"):
        submit(code)
    app.extensions.pop("city311_picker_usage", None)  # counted per process, for a while
    if role:
        sign_in(client, city.users[role])

    page = client.get(path).get_data(as_text=True)

    # groups by name, no group last; in each the most reported first, then by name
    assert select_groups(page) == [
        ("Highway Maintenance", ["hole"]),
        ("Streets", ["streetlight", "pothole", "abandoned"]),
        ("Other problems", ["graffiti"]),
    ]


# ---------------------------------------------------------------------------------------------
# every error at once


def test_every_error_comes_on_the_first_submit_with_the_required_question(client, city):
    make_service_type("deep", city.public_works, name="Deep hole", attributes=[REQUIRED_QUESTION])
    before = count_requests()
    resp = post_form(
        client,
        form(service_code="deep", description="", lat="", long="", notify="sms", phone=""),
        url="/",
    )
    assert resp.status_code == 400
    messages = error_summary(resp)
    assert any("description is required" in m for m in messages)
    assert any("How deep is it?" in m for m in messages)
    assert any("Show us where" in m for m in messages)
    assert any("mobile number" in m for m in messages)
    assert count_requests() == before


def test_the_api_names_every_problem_at_once(client, city):
    resp = client.post(
        "/api/v1/requests",
        json={
            "service_code": "pothole",
            "description": " ",
            "lat": 42.3,
            "long": -71.02,
            "email": "not-an-email",
            "notify": "both",
            "phone": "",
        },
    )
    assert resp.status_code == 400
    errors = resp.get_json()["errors"]
    assert set(errors) == {"description", "email", "phone"}


# ---------------------------------------------------------------------------------------------
# photos sent ahead, by token


def test_a_photo_is_kept_as_a_token_when_another_field_fails_and_then_sent(client, city):
    resp = post_form(client, form(description=""), photo=jpeg_bytes(gps=True), url="/")
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    token = re.search(r'name="photo_token" value="([^"]+)"', page).group(1)
    thumb = re.search(r'src="(/photos/uploads/[^"]+/thumb.jpg)"', page).group(1)
    assert client.get(thumb).status_code in (200, 302)  # the copy, or "processing" until made

    resp = post_form(client, form(photo_token=token), url="/")
    assert resp.status_code == 303
    request_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    photo = db.session.scalar(select(Photo).where(Photo.request_id == request_id))
    assert photo is not None

    again = post_form(client, form(photo_token=token), url="/")  # the token is single-use
    assert again.status_code == 400
    assert "already sent with another report" in again.get_data(as_text=True)


def test_photo_endpoint_gives_a_token_the_api_takes(client, city):
    resp = upload(client, jpeg_bytes(gps=True))
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["location"] is not None  # offered as the report's place
    unattached = db.session.scalar(select(Photo).order_by(Photo.id.desc()))
    assert unattached.request_id is None
    # an upload waiting for its report is not public by its number
    assert client.get(f"/photos/{unattached.id}/thumb.jpg").status_code == 404

    created = client.post(
        "/api/v1/requests",
        json={**form(), "lat": 42.3, "long": -71.02, "photo_token": body["token"]},
    )
    assert created.status_code == 201, created.get_json()
    assert len(created.get_json()["photo_urls"]) == 1


def test_photo_endpoint_refuses_a_hostile_file(client, city):
    resp = upload(client, b"%PDF-1.4 not a photo", name="x.jpg")
    assert resp.status_code == 400
    assert "PDF" in resp.get_json()["message"]
    assert upload(client, b"GIF89a" + b"\0" * 20).status_code == 400


def test_a_token_altered_to_name_another_upload_is_refused(app, client, city):
    first = upload(client, jpeg_bytes()).get_json()["token"]
    other = upload(client, jpeg_bytes(color="blue"))
    assert other.status_code == 201
    other_id = db.session.scalar(select(func.max(Photo.id)))
    # a token for the other upload, signed with another key (anyone may try)
    forged = URLSafeTimedSerializer("not-the-key", salt="city311-photo-upload").dumps(
        {"id": other_id, "name": "", "at": None}
    )
    for token in (forged, first[:-4] + "AAAA"):
        resp = client.post(
            "/api/v1/requests", json={**form(), "lat": 42.3, "long": -71.02, "photo_token": token}
        )
        assert resp.status_code == 400
        assert "not one this site gave" in resp.get_json()["message"]


def test_an_expired_token_is_refused(app, client, city, monkeypatch):
    token = upload(client, jpeg_bytes()).get_json()["token"]
    monkeypatch.setattr(uploads, "TOKEN_TTL", timedelta(seconds=-1))
    resp = post_form(client, form(photo_token=token), url="/")
    assert resp.status_code == 400
    assert "uploaded too long ago" in resp.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# one request, however often it is sent


def test_the_form_sent_twice_with_its_key_makes_one_request(client, city):
    before = count_requests()
    data = form(idempotency_key=str(uuid.uuid4()))
    first = post_form(client, data, url="/")
    second = post_form(client, data, url="/")
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert count_requests() == before + 1


#: what the form's script sends: JSON preferred, the form's HTML taken
SCRIPT = {"Accept": "application/json, text/html;q=0.5"}


def test_the_forms_script_is_told_where_to_go_and_the_page_keeps_the_thank_you(client, city):
    before = count_requests()
    key = str(uuid.uuid4())
    headers = {**SCRIPT, "Idempotency-Key": key}
    first = post_form(client, form(idempotency_key=key), url="/", headers=headers)
    assert first.status_code == 201
    sent = first.get_json()
    assert sent["url"] == f"/requests/{sent['id']}" == first.headers["Location"]
    # the thank-you waits for the page the script then opens
    page = client.get(sent["url"]).get_data(as_text=True)
    assert f"your request number is {sent['id']}" in page
    again = post_form(client, form(idempotency_key=key), url="/", headers=headers)
    assert (again.status_code, again.get_json()) == (201, sent)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count_requests() == before + 1
    # refused, the script gets the form with every error, as HTML to show
    refused = post_form(client, form(description=""), url="/", headers=SCRIPT)
    assert refused.status_code == 400 and refused.mimetype == "text/html"
    assert 'id="error-summary"' in refused.get_data(as_text=True)


def test_a_refused_form_may_be_sent_again_corrected_under_the_same_key(client, city):
    key = str(uuid.uuid4())
    assert post_form(client, form(description="", idempotency_key=key), url="/").status_code == 400
    page = client.get("/").get_data(as_text=True)
    assert key not in page  # each form shown has its own key
    assert post_form(client, form(idempotency_key=key), url="/").status_code == 303


def test_the_api_answers_a_retry_with_the_first_answer(client, city):
    before = count_requests()
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {**form(), "lat": 42.3, "long": -71.02}
    first = client.post("/api/v1/requests", json=body, headers=key)
    second = client.post("/api/v1/requests", json=body, headers=key)
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json()
    assert count_requests() == before + 1


@pytest.mark.parametrize("key", ["short", "x" * 201])
def test_an_anonymous_key_must_be_long_enough_and_not_too_long(client, city, key):
    resp = client.post(
        "/api/v1/requests",
        json={**form(), "lat": 42.3, "long": -71.02},
        headers={"Idempotency-Key": key},
    )
    assert resp.status_code == 400


def test_the_confirmation_says_what_happens_next_and_when_in_city_time(client, city):
    resp = post_form(client, form(), url="/")
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    request_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    sr = db.session.get(ServiceRequest, request_id)
    assert f"your request number is {request_id}" in page
    assert "What happens next" in page
    due = to_city_time(sr.due_at)  # Babel's medium date and short time, in the city's zone
    assert f"{due:%b} {due.day}, {due.year}, {due.hour % 12 or 12}:{due:%M}\u202f{due:%p}" in page


def test_a_question_changed_since_it_was_cached_is_asked_as_it_is_now(client, city):
    submit("pothole")  # the intake view of the pothole type is cached
    question = dict(city.pothole.attributes[0])
    question["values"] = [*question["values"], {"key": "medium", "name": "About a plate"}]
    city.pothole.attributes = [question]
    db.session.flush()
    resp = post_form(client, form(**{"attribute[size]": "medium"}), url="/")
    assert resp.status_code == 303, error_summary(resp)

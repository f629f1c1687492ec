"""Who reads what of one request: every staff read by id × every role, own and other department.

A Public Works pothole with a reporter and an internal note. Agents, managers, admins and
Public Works' own dispatcher and crew read the reporter and the note; Parks' dispatcher and
crew get the public view: the API's public fields and public events, a staff page without
the reporter and the internal history (crews have no staff page: 403). A photo as uploaded
(it may carry GPS) goes to the readers of the reporter only.
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from app.auth import service as auth_service
from app.extensions import db
from app.media import service as media
from app.requests import lifecycle
from tests import factories
from tests.factories import jpeg_bytes
from tests.helpers import bearer, sign_in

REPORTER_NAME = "Rita Reporter"
REPORTER_EMAIL = "rita@example.org"
REPORTER_PHONE = "555-0199"
INTERNAL_NOTE = "Caller sounded upset; do not call before noon"

#: who asks: anonymous, the request's department (PWD) and the other one (PARKS)
WHO = (
    "anonymous",
    "agent",
    "dispatcher",
    "parks_dispatcher",
    "crew",
    "parks_crew",
    "manager",
    "admin",
)
#: who may read the reporter and the internal notes of a Public Works request
PRIVATE_READERS = {"agent", "dispatcher", "crew", "manager", "admin"}
#: the desk roles that may open the staff page
DESK_READERS = {"agent", "dispatcher", "manager", "admin"}


@pytest.fixture
def setup(city: factories.City) -> tuple[int, dict[str, str]]:
    """Return the request's id and a bearer token for each `WHO` but anonymous."""
    city.users["parks_crew"] = factories.make_user(
        "parks.crew@city.test",
        "crew",
        department_id=city.parks.id,
        crew_id=city.parks_crew.id,
    )
    sr = factories.submit(phone="(617) 555-0199")
    lifecycle.add_note(sr, actor_id=city.users["agent"].id, note=INTERNAL_NOTE, public=False)
    tokens = {who: auth_service.issue_token(city.users[who]) for who in WHO if who != "anonymous"}
    return sr.id, tokens


def _private_fields_in(text: str) -> set[str]:
    found = {REPORTER_NAME, REPORTER_EMAIL, REPORTER_PHONE, INTERNAL_NOTE}
    return {value for value in found if value in text}


def _api_get(client: FlaskClient, url: str, who: str, tokens: dict[str, str]):
    headers = bearer(tokens[who]) if who != "anonymous" else {}
    return client.get(url, headers=headers)


@pytest.mark.parametrize("who", WHO)
def test_api_request_by_id(client, setup, who) -> None:
    sr_id, tokens = setup
    resp = _api_get(client, f"/api/v1/requests/{sr_id}", who, tokens)
    assert resp.status_code == 200
    body = resp.get_json()
    leaked = _private_fields_in(resp.get_data(as_text=True))
    if who in PRIVATE_READERS:
        assert body["reporter"]["email"] == REPORTER_EMAIL
        assert leaked == {REPORTER_NAME, REPORTER_EMAIL, REPORTER_PHONE, INTERNAL_NOTE}
    else:
        assert "reporter" not in body and "events" not in body
        assert leaked == set()


#: the desk roles of the API (events, duplicates): other departments' dispatchers included
API_DESK = {"agent", "dispatcher", "parks_dispatcher", "manager", "admin"}


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("path", ["events", "duplicates"])
def test_api_staff_reads(client, setup, who, path) -> None:
    sr_id, tokens = setup
    resp = _api_get(client, f"/api/v1/requests/{sr_id}/{path}", who, tokens)
    expected = 401 if who == "anonymous" else 200 if who in API_DESK else 403
    assert resp.status_code == expected, resp.get_data(as_text=True)
    leaked = _private_fields_in(resp.get_data(as_text=True))
    if path == "events" and expected == 200 and who in PRIVATE_READERS:
        assert leaked == {INTERNAL_NOTE}
        return
    # another department's dispatcher reads the public events only
    assert leaked == set()
    if path == "events" and expected == 200:
        assert resp.get_json() and all(e["public"] for e in resp.get_json())


@pytest.mark.parametrize("who", WHO)
def test_staff_page(client, city, setup, who) -> None:
    sr_id, _ = setup
    if who != "anonymous":
        sign_in(client, city.users[who])
    resp = client.get(f"/staff/requests/{sr_id}")
    text = resp.get_data(as_text=True)
    if who == "anonymous":
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    elif who in DESK_READERS:
        assert resp.status_code == 200
        assert _private_fields_in(text) == {
            REPORTER_NAME,
            REPORTER_EMAIL,
            REPORTER_PHONE,
            INTERNAL_NOTE,
        }
    elif who == "parks_dispatcher":
        assert resp.status_code == 200
        assert _private_fields_in(text) == set()
        assert "Private: only Public Works staff" in text
    else:
        assert resp.status_code == 403
        assert _private_fields_in(text) == set()


@pytest.mark.parametrize("who", WHO)
def test_staff_photo_original(client, city, setup, who) -> None:
    sr_id, _ = setup
    sent = jpeg_bytes(gps=True)  # where the reporter stood
    photo = media.attach_photo(media.check_photo_bytes(sent), kind="report", request_id=sr_id)
    db.session.commit()
    if who != "anonymous":
        sign_in(client, city.users[who])
    resp = client.get(f"/staff/photos/{photo.id}/original")
    if who == "anonymous":
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    elif who in PRIVATE_READERS:
        assert resp.status_code == 200 and resp.data == sent
        assert resp.headers["Cache-Control"] == "private, no-store"
    else:
        assert resp.status_code == 403 and sent not in resp.data


@pytest.mark.parametrize("who", WHO)
def test_public_tracking_page_never_shows_private_fields(client, city, setup, who) -> None:
    sr_id, _ = setup
    if who != "anonymous":
        sign_in(client, city.users[who])
    resp = client.get(f"/requests/{sr_id}")
    assert resp.status_code == 200
    assert _private_fields_in(resp.get_data(as_text=True)) == set()


@pytest.mark.parametrize("who", WHO)
def test_search_by_reporter_email(client, setup, who) -> None:
    sr_id, tokens = setup
    resp = _api_get(client, f"/api/v1/requests?q={REPORTER_EMAIL}", who, tokens)
    if who == "anonymous":
        assert resp.status_code == 401
        return
    assert resp.status_code == 200
    ids = [item["id"] for item in resp.get_json()]
    assert (sr_id in ids) == (who in PRIVATE_READERS)
    if who not in PRIVATE_READERS:
        assert _private_fields_in(resp.get_data(as_text=True)) == set()


def test_the_openapi_document_names_both_views(client, setup):
    sr_id, tokens = setup
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    response = spec["paths"]["/api/v1/requests/{request_id}"]["get"]["responses"]["200"]
    refs = {s["$ref"] for s in response["content"]["application/json"]["schema"]["anyOf"]}
    assert refs == {
        "#/components/schemas/RequestPublicOut",
        "#/components/schemas/RequestStaffOut",
    }
    public = _api_get(client, f"/api/v1/requests/{sr_id}", "anonymous", tokens).get_json()
    staff = _api_get(client, f"/api/v1/requests/{sr_id}", "agent", tokens).get_json()
    assert set(public) <= set(schemas["RequestPublicOut"]["properties"])
    assert set(staff) <= set(schemas["RequestStaffOut"]["properties"])
    assert not set(staff) <= set(schemas["RequestPublicOut"]["properties"])

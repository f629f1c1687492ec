"""The requests JSON API on the real stack: intake by JSON and multipart, reading, queues."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.extensions import db
from app.media.models import Photo
from app.requests import service
from app.requests.models import ServiceRequest
from tests.factories import OUTSIDE_POINT, WARD_1_POINT, WARD_2_POINT, jpeg_bytes, submit
from tests.helpers import bearer

PII = {"name": "Rita Reporter", "email": "rita.reporter@example.org", "phone": "+1 617 555 0199"}


def count_requests() -> int:
    return db.session.scalar(select(func.count()).select_from(ServiceRequest))


def count_photos() -> int:
    return db.session.scalar(select(func.count()).select_from(Photo))


def body(point=WARD_1_POINT, **kw):
    data = {
        "service_code": "pothole",
        "description": "Deep pothole in the bike lane",
        "lat": point[0],
        "long": point[1],
    }
    data.update(kw)
    return data


def post_json(client, data, headers=None):
    return client.post("/api/v1/requests", json=data, headers=headers or {})


def post_form(
    client, data, photo: bytes | None = None, filename="pothole.jpg", url=None, headers=None
):
    """POST a multipart form, encoded in memory as a browser would send it."""
    form = {k: str(v) for k, v in data.items()}
    if photo is not None:
        form["photo"] = FileStorage(io.BytesIO(photo), filename, content_type="image/jpeg")
    # encoded here rather than by the test client, which spools big bodies to a temporary
    # file that it never closes when the app refuses the body unread
    boundary, payload = encode_multipart(form)
    return client.post(
        url or "/api/v1/requests",
        data=payload,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=headers,
    )


def path_of(url: str) -> str:
    return urlsplit(url).path


# ---------------------------------------------------------------------------------------------
# catalogue


def test_services_lists_the_catalogue_with_department_sla_and_questions(client, city):
    resp = client.get("/api/v1/services")
    assert resp.status_code == 200
    by_code = {s["code"]: s for s in resp.get_json()}
    assert set(by_code) == {"pothole", "streetlight", "graffiti"}
    pothole = by_code["pothole"]
    assert pothole["department"] == {"code": "PWD", "name": "Public Works"}
    assert pothole["sla"] == {"value": 72, "unit": "hours"}
    assert pothole["group"] == "Streets"
    assert pothole["attributes"][0]["code"] == "size"
    assert pothole["completion_photo_required"] is True
    assert by_code["streetlight"]["sla"] == {"value": 5, "unit": "business_days"}


# ---------------------------------------------------------------------------------------------
# intake


def test_json_submission_is_routed_and_gets_its_due_time(client, city):
    resp = post_json(client, body(point=WARD_2_POINT, attributes={"size": "large"}, **PII))
    assert resp.status_code == 201, resp.get_json()
    data = resp.get_json()
    assert data["status"] == "new"
    assert (data["service_code"], data["service_name"]) == ("pothole", "Pothole")
    assert data["department"] == {"code": "PWD", "name": "Public Works"}
    assert data["district"] == {"code": "2", "name": "Ward 2"}
    requested = datetime.fromisoformat(data["requested_at"])
    due = datetime.fromisoformat(data["due_at"])
    assert due - requested == timedelta(hours=72)
    assert data["photo_url"] is None
    assert data["tracking_url"] == f"http://city311.test/requests/{data['id']}"

    sr = db.session.get(ServiceRequest, data["id"])
    assert (sr.channel, sr.district_id, sr.attributes) == ("api", city.ward2.id, {"size": "large"})
    assert (sr.reporter_name, sr.reporter_email, sr.reporter_phone) == tuple(PII.values())
    assert sr.created_by_id is None


def test_multipart_submission_with_photo_stores_it(client, city):
    before = count_photos()
    resp = post_form(
        client,
        body(point=WARD_1_POINT, service_code="graffiti", description="Tag on the library wall"),
        photo=jpeg_bytes(gps=True),
    )
    assert resp.status_code == 201, resp.get_json()
    data = resp.get_json()
    assert data["department"]["code"] == "PARKS"
    assert data["district"]["code"] == "1"
    assert datetime.fromisoformat(data["due_at"]) - datetime.fromisoformat(
        data["requested_at"]
    ) == timedelta(hours=7 * 24)
    assert count_photos() == before + 1
    photo = db.session.scalar(select(Photo).where(Photo.request_id == data["id"]))
    assert photo.kind == "report"
    assert path_of(data["photo_url"]) == f"/photos/{photo.id}/display.jpg"


def test_multipart_attribute_answers_and_string_numbers_are_accepted(client, city):
    form = body(point=WARD_1_POINT)
    form["attribute[size]"] = "small"
    resp = post_form(client, form)
    assert resp.status_code == 201, resp.get_json()
    assert db.session.get(ServiceRequest, resp.get_json()["id"]).attributes == {"size": "small"}


def test_unknown_fields_are_ignored(client, city):
    resp = post_json(client, body(api_key="x", device_id="abc", jurisdiction_id="city.test"))
    assert resp.status_code == 201


def test_a_staff_token_keeps_the_api_channel_and_records_who_keyed_it(client, city, tokens):
    resp = post_json(client, body(), headers=bearer(tokens["agent"]))
    assert resp.status_code == 201
    sr = db.session.get(ServiceRequest, resp.get_json()["id"])
    assert (sr.channel, sr.created_by_id) == ("api", city.users["agent"].id)


@pytest.mark.parametrize(
    "data, status, field, words",
    [
        (body(service_code="sinkhole"), 400, "service_code", "Unknown service code"),
        ({k: v for k, v in body().items() if k != "service_code"}, 422, "service_code", "required"),
        (body(description=""), 400, "description", "description is required"),
        ({k: v for k, v in body().items() if k != "description"}, 400, "description", "required"),
        (body(description="x" * 4001), 400, "description", "limit is 4000"),
        (body(lat="abc"), 422, "lat", "lat must be a number"),
        (body(long="north"), 422, "long", "long must be a number"),
        (body(lat=None), 422, "lat", "lat must be a number"),
        ({k: v for k, v in body().items() if k != "long"}, 422, "long", "long is required"),
        (body(lat=95.0), 400, "lat", "between -90 and 90"),
        (body(point=OUTSIDE_POINT), 400, "location", "outside"),
        (body(email="not-an-email"), 400, "email", "not an email"),
        (body(attributes={"size": "enormous"}), 400, "size", "must be one of"),
        (body(attributes=["size"]), 422, "attributes", "attributes must be an object"),
    ],
)
def test_bad_json_input_gets_a_4xx_that_says_what_to_fix_and_stores_nothing(
    client, city, data, status, field, words
):
    before = count_requests()
    resp = post_json(client, data)
    assert resp.status_code == status, resp.get_json()
    payload = resp.get_json()
    assert words in payload["message"]
    assert field in payload["errors"]
    assert count_requests() == before


def test_bad_multipart_coordinates_say_lat_must_be_a_number(client, city):
    before = count_requests()
    resp = post_form(client, body(lat="abc"))
    assert resp.status_code == 422
    assert "lat must be a number" in resp.get_json()["message"]
    assert count_requests() == before


def test_malformed_json_is_a_400_with_a_clear_message(client, city):
    before = count_requests()
    resp = client.post(
        "/api/v1/requests",
        data='{"service_code": "pothole", "description": "x",',
        content_type="application/json",
    )
    assert resp.status_code == 400
    assert "not valid JSON" in resp.get_json()["message"]
    resp = client.post("/api/v1/requests", data="[1, 2]", content_type="application/json")
    assert resp.status_code == 400
    assert "must be an object" in resp.get_json()["message"]
    assert count_requests() == before


def test_a_body_that_is_neither_json_nor_a_form_is_refused(client, city):
    resp = client.post("/api/v1/requests", data="pothole at Main St", content_type="text/plain")
    assert resp.status_code == 415
    assert "application/json" in resp.get_json()["message"]


def test_a_file_that_is_not_an_image_is_refused(client, city):
    before, photos = count_requests(), count_photos()
    resp = post_form(client, body(), photo=b"%PDF-1.4 not a photo at all", filename="x.jpg")
    assert resp.status_code == 400
    payload = resp.get_json()
    assert "not an image" in payload["message"]
    assert "photo" in payload["errors"]
    assert (count_requests(), count_photos()) == (before, photos)


def test_a_photo_over_the_size_limit_is_refused_with_413(app, client, city):
    limit = app.config["MAX_PHOTO_BYTES"]
    # a real JPEG padded past the photo limit, while the body stays under MAX_CONTENT_LENGTH
    big = jpeg_bytes() + b"\0" * (limit + 1024)
    assert len(big) < app.config["MAX_CONTENT_LENGTH"] - 64 * 1024
    before = count_requests()
    resp = post_form(client, body(), photo=big)
    assert resp.status_code == 413
    assert "too large" in resp.get_json()["message"]
    assert "2 MB" in resp.get_json()["message"]
    assert count_requests() == before


def test_a_body_over_the_content_limit_is_refused_with_413(app, client, city):
    big = jpeg_bytes() + b"\0" * app.config["MAX_CONTENT_LENGTH"]
    before = count_requests()
    resp = post_form(client, body(), photo=big)
    assert resp.status_code == 413
    assert "too large" in resp.get_json()["message"]
    assert count_requests() == before


# ---------------------------------------------------------------------------------------------
# reading


def submitted(client, **kw) -> int:
    resp = post_json(client, body(**kw))
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def test_public_view_hides_the_reporter_and_staff_see_them(client, city, tokens):
    request_id = submitted(client, address="12 Main St", **PII)
    sr = db.session.get(ServiceRequest, request_id)
    service.add_note(sr, actor_id=city.users["dispatcher"].id, note="Call back first", public=False)
    service.acknowledge(sr, actor_id=city.users["dispatcher"].id, note="On our list")
    db.session.commit()

    public = client.get(f"/api/v1/requests/{request_id}")
    assert public.status_code == 200
    raw = public.get_data(as_text=True)
    for value in PII.values():
        assert value not in raw
    assert "Call back first" not in raw
    data = public.get_json()
    assert "reporter" not in data and "channel" not in data
    assert data["service"] == {"code": "pothole", "name": "Pothole"}
    assert (data["lat"], data["long"]) == pytest.approx(WARD_1_POINT)
    assert data["address"] == "12 Main St"
    assert data["district"] == {"code": "1", "name": "Ward 1"}
    assert data["status"] == "acknowledged" and data["acknowledged_at"]
    assert [(e["kind"], e["status"]) for e in data["history"]] == [
        ("created", "new"),
        ("acknowledged", "acknowledged"),
    ]
    assert data["history"][1]["note"] == "On our list"

    for role in ("agent", "crew", "dispatcher", "manager"):
        staff = client.get(f"/api/v1/requests/{request_id}", headers=bearer(tokens[role]))
        assert staff.status_code == 200
        data = staff.get_json()
        assert data["reporter"] == PII
        assert data["channel"] == "api"
        internal = [e for e in data["events"] if not e["public"]]
        assert [e["note"] for e in internal] == ["Call back first"]


def test_public_view_lists_photo_urls(client, city):
    resp = post_form(client, body(), photo=jpeg_bytes())
    data = client.get(f"/api/v1/requests/{resp.get_json()['id']}").get_json()
    assert len(data["photos"]) == 1
    assert path_of(data["photos"][0]["url"]).endswith("/display.jpg")
    assert path_of(data["photos"][0]["thumbnail_url"]).endswith("/thumb.jpg")


def test_unknown_request_is_a_json_404(client, city):
    resp = client.get("/api/v1/requests/987654321")
    assert resp.status_code == 404
    assert "no service request 987654321" in resp.get_json()["message"]


# ---------------------------------------------------------------------------------------------
# department queue


def make_due(code: str, due_in_hours: float, point=WARD_1_POINT) -> int:
    """Submit a request whose SLA falls due `due_in_hours` from now (negative: overdue)."""
    st = service.catalogue_entry(code)
    sla = timedelta(hours=st.sla_value)
    requested_at = datetime.now(UTC) + timedelta(hours=due_in_hours) - sla
    return submit(
        code,
        point,
        requested_at=requested_at,
        description=f"due in {due_in_hours}h",
        email=PII["email"],
    ).id


def test_queue_lists_open_requests_most_overdue_first(client, city, tokens):
    soon = make_due("pothole", 5)
    very_late = make_due("pothole", -30)
    late = make_due("pothole", -2, point=WARD_2_POINT)
    closed = make_due("pothole", -50)
    service.close(db.session.get(ServiceRequest, closed), reason="fixed", actor_id=None)
    other_department = make_due("graffiti", -100)
    db.session.commit()

    resp = client.get("/api/v1/departments/PWD/queue", headers=bearer(tokens["dispatcher"]))
    assert resp.status_code == 200
    items = resp.get_json()
    assert [i["id"] for i in items] == [very_late, late, soon]
    assert [i["overdue"] for i in items] == [True, True, False]
    assert other_department not in [i["id"] for i in items]
    first = items[0]
    assert first["service"] == {"code": "pothole", "name": "Pothole"}
    assert first["district"] == {"code": "1", "name": "Ward 1"}
    assert first["reporter"]["email"] == PII["email"]
    assert (first["lat"], first["long"]) == pytest.approx(WARD_1_POINT)

    for role in ("manager", "admin"):
        resp = client.get("/api/v1/departments/PWD/queue", headers=bearer(tokens[role]))
        assert [i["id"] for i in resp.get_json()] == [very_late, late, soon]


def test_queue_enforces_roles_and_departments(client, city, tokens):
    url = "/api/v1/departments/PWD/queue"
    no_token = client.get(url)
    assert no_token.status_code == 401
    assert "Bearer" in no_token.get_json()["message"]
    assert client.get(url, headers=bearer("not-a-token")).status_code == 401
    assert client.get(url, headers=bearer(tokens["crew"])).status_code == 403
    assert client.get(url, headers=bearer(tokens["agent"])).status_code == 403
    other = client.get(url, headers=bearer(tokens["parks_dispatcher"]))
    assert other.status_code == 403
    assert "another department" in other.get_json()["message"]
    own = client.get("/api/v1/departments/PARKS/queue", headers=bearer(tokens["parks_dispatcher"]))
    assert own.status_code == 200


def test_queue_of_an_unknown_department_is_404(client, city, tokens):
    resp = client.get("/api/v1/departments/NOPE/queue", headers=bearer(tokens["manager"]))
    assert resp.status_code == 404
    assert "NOPE" in resp.get_json()["message"]


# ---------------------------------------------------------------------------------------------
# documentation


def test_openapi_describes_the_endpoints_and_bearer_auth(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert "get" in paths["/api/v1/services"]
    post = paths["/api/v1/requests"]["post"]
    content = post["requestBody"]["content"]
    assert "application/json" in content
    assert content["multipart/form-data"]["schema"]["properties"]["photo"]["format"] == "binary"
    assert "201" in post["responses"]
    assert "get" in paths["/api/v1/requests/{request_id}"]
    queue = paths["/api/v1/departments/{code}/queue"]["get"]
    assert queue["security"] == [{"bearerAuth": []}]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    schemas = spec["components"]["schemas"]
    assert "email" not in json.dumps(schemas["RequestPublicOut"])
    assert "reporter" in schemas["RequestStaffOut"]["properties"]

"""Every upload point refuses what is not a whole, safe image, says what to send, stores nothing."""

from __future__ import annotations

import functools
import html
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from app.extensions import db
from app.media.models import Photo
from app.open311 import keys
from app.requests.models import RequestEvent, ServiceRequest
from app.workorders import service as workorders
from app.workorders.models import WorkOrder
from tests import factories
from tests.factories import WARD_1_POINT
from tests.helpers import bearer, sign_in
from tests.media import samples
from tests.requests.test_api import post_form

FIELDS = {
    "service_code": "pothole",
    "description": "Pothole by the bus stop",
    "lat": str(WARD_1_POINT[0]),
    "long": str(WARD_1_POINT[1]),
}
#: the refusal says what to send instead (the format, or the size in pixels)
WHAT_TO_SEND = ("JPEG, PNG or WebP", "megapixels")


@functools.cache
def sample(name: str) -> bytes:
    return samples.hostile(name)


def stored_files(app: Flask) -> set[Path]:
    return {p for p in Path(app.config["MEDIA_ROOT"]).rglob("*") if p.is_file()}


def counts() -> tuple[int, int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(ServiceRequest)),
        db.session.scalar(select(func.count()).select_from(Photo)),
        db.session.scalar(select(func.count()).select_from(RequestEvent)),
    )


def _file(data: bytes, name: str = "photo.jpg") -> tuple[io.BytesIO, str, str]:
    return io.BytesIO(data), name, "image/jpeg"


def resident_form(client: FlaskClient, city, tokens, data: bytes, wo) -> TestResponse:
    return post_form(client, FIELDS, photo=data, url="/")


def json_api(client: FlaskClient, city, tokens, data: bytes, wo) -> TestResponse:
    return post_form(client, FIELDS, photo=data)


def open311(client: FlaskClient, city, tokens, data: bytes, wo) -> TestResponse:
    _, key = keys.create_key("Test client", "dev@client.test")
    db.session.commit()
    return client.post(
        "/open311/v2/requests.json",
        data={**FIELDS, "api_key": key, "media": _file(data)},
        content_type="multipart/form-data",
    )


def work_order(city) -> WorkOrder:
    sr = factories.submit()
    wo = workorders.create_work_order([sr.id], city.crew_a.id, actor=city.users["dispatcher"])
    db.session.commit()
    return wo


def completion_api(client: FlaskClient, city, tokens, data: bytes, wo) -> TestResponse:
    return client.post(
        f"/api/v1/workorders/{wo.id}/complete",
        data={"note": "Patched", "photo": _file(data)},
        content_type="multipart/form-data",
        headers=bearer(tokens["crew"]),
    )


def work_order_photo_api(client: FlaskClient, city, tokens, data: bytes, wo) -> TestResponse:
    return client.post(
        f"/api/v1/workorders/{wo.id}/photos",
        data={"kind": "before", "photo": _file(data)},
        content_type="multipart/form-data",
        headers=bearer(tokens["crew"]),
    )


def crew_page_completion(client: FlaskClient, city, tokens, data: bytes, wo) -> TestResponse:
    sign_in(client, city.users["crew"])
    return client.post(
        f"/crew/workorders/{wo.id}/complete",
        data={"note": "Patched", "photo": _file(data)},
        content_type="multipart/form-data",
    )


def crew_page_photo(client: FlaskClient, city, tokens, data: bytes, wo) -> TestResponse:
    sign_in(client, city.users["crew"])
    return client.post(
        f"/crew/workorders/{wo.id}/photos",
        data={"kind": "before", "photo": _file(data)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def notes_api(client: FlaskClient, city, tokens, data: bytes, wo) -> TestResponse:
    return client.post(
        f"/api/v1/requests/{wo.requests[0].id}/notes",
        data={"note": "Kerb damaged too", "photo": _file(data)},
        content_type="multipart/form-data",
        headers=bearer(tokens["dispatcher"]),
    )


def staff_page_note(client: FlaskClient, city, tokens, data: bytes, wo) -> TestResponse:
    sign_in(client, city.users["dispatcher"])
    return client.post(
        f"/staff/requests/{wo.requests[0].id}/note",
        data={"note": "Kerb damaged too", "photo": _file(data)},
        content_type="multipart/form-data",
    )


UPLOAD_POINTS: dict[str, Callable[..., TestResponse]] = {
    "resident-form": resident_form,
    "json-api": json_api,
    "open311": open311,
    "completion-api": completion_api,
    "work-order-photo-api": work_order_photo_api,
    "crew-page-completion": crew_page_completion,
    "crew-page-photo": crew_page_photo,
    "notes-api": notes_api,
    "staff-page-note": staff_page_note,
}


#: the points that take a photo of an existing work order, or of its request (notes)
ORDER_POINTS = {
    "completion-api",
    "work-order-photo-api",
    "crew-page-completion",
    "crew-page-photo",
    "notes-api",
    "staff-page-note",
}


def send(point: str, client: FlaskClient, city, tokens, data: bytes) -> TestResponse:
    wo = work_order(city) if point in ORDER_POINTS else None
    return UPLOAD_POINTS[point](client, city, tokens, data, wo)


@pytest.mark.parametrize("point", list(UPLOAD_POINTS))
@pytest.mark.parametrize("name", list(samples.HOSTILE))
def test_hostile_upload_is_refused_with_what_to_send_and_nothing_is_stored(
    client, app, city, tokens, point, name
):
    wo = work_order(city) if point in ORDER_POINTS else None
    files = stored_files(app)
    before = counts()

    resp = UPLOAD_POINTS[point](client, city, tokens, sample(name), wo)

    page = html.unescape(resp.get_data(as_text=True))
    if point == "crew-page-photo":
        assert resp.status_code == 200  # the crew page again, with the error flashed
    else:
        assert resp.status_code == 400, page[:500]
    assert any(hint in page for hint in WHAT_TO_SEND), page[:2000]
    db.session.expire_all()
    assert counts() == before  # no request, photo or event
    assert stored_files(app) == files  # no file, not even a partial one
    if wo is not None:
        assert db.session.get(WorkOrder, wo.id).status == "assigned"


@pytest.mark.parametrize("point", ["resident-form", "json-api", "open311", "completion-api"])
@pytest.mark.parametrize("name", ["mpo", "webp", "png"])
def test_phone_formats_are_accepted_at_every_upload_point(client, app, city, tokens, point, name):
    data = {"mpo": samples.mpo, "webp": samples.webp, "png": lambda: samples.png_with_text("x")}
    resp = send(point, client, city, tokens, data[name]())
    assert resp.status_code in (200, 201, 303), resp.get_data(as_text=True)[:500]
    db.session.expire_all()
    photo = db.session.scalars(select(Photo).order_by(Photo.id.desc())).first()
    assert photo is not None
    types = {"mpo": "image/jpeg", "webp": "image/webp", "png": "image/png"}
    assert photo.content_type == types[name]


def _files(n: int) -> list[tuple[io.BytesIO, str, str]]:
    colours = ["red", "green", "blue", "white"]
    return [_file(factories.jpeg_bytes(color=colours[i]), f"p{i}.jpg") for i in range(n)]


def _with_photos(fields: dict[str, str], name: str, n: int) -> MultiDict[str, object]:
    body: MultiDict[str, object] = MultiDict(fields)
    for upload in _files(n):
        body.add(name, upload)
    return body


def test_the_api_takes_several_photos_in_one_report(client, city):
    resp = client.post(
        "/api/v1/requests",
        data=_with_photos(FIELDS, "photo", 3),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert len(body["photo_urls"]) == 3 and body["photo_url"] == body["photo_urls"][0]
    photos = db.session.scalars(select(Photo).where(Photo.request_id == body["id"])).all()
    assert len(photos) == 3
    public = client.get(f"/api/v1/requests/{body['id']}").get_json()
    assert len(public["photos"]) == 3


@pytest.mark.parametrize("point", ["json-api", "resident-form", "open311", "completion-api"])
def test_more_photos_than_allowed_are_refused_and_nothing_is_stored(
    client, app, city, tokens, point
):
    wo = work_order(city) if point in ORDER_POINTS else None
    files = stored_files(app)
    before = counts()
    n = app.config.get("MAX_PHOTOS_PER_UPLOAD", 3) + 1
    if point == "open311":
        _, key = keys.create_key("Test client", "dev@client.test")
        db.session.commit()
        resp = client.post(
            "/open311/v2/requests.json",
            data=_with_photos({**FIELDS, "api_key": key}, "media", n),
            content_type="multipart/form-data",
        )
    elif point == "completion-api":
        assert wo is not None
        resp = client.post(
            f"/api/v1/workorders/{wo.id}/complete",
            data=_with_photos({"note": "Patched"}, "photo", n),
            content_type="multipart/form-data",
            headers=bearer(tokens["crew"]),
        )
    else:
        resp = client.post(
            "/" if point == "resident-form" else "/api/v1/requests",
            data=_with_photos(FIELDS, "photo", n),
            content_type="multipart/form-data",
        )
    assert resp.status_code == 400
    assert f"at most {n - 1} photos" in html.unescape(resp.get_data(as_text=True))
    db.session.expire_all()
    assert counts() == before
    assert stored_files(app) == files


def test_open311_and_the_resident_form_keep_every_photo(client, city):
    _, key = keys.create_key("Test client", "dev@client.test")
    db.session.commit()
    resp = client.post(
        "/open311/v2/requests.json",
        data=_with_photos({**FIELDS, "api_key": key}, "media", 2),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    request_id = int(resp.get_json()[0]["service_request_id"])
    assert len(db.session.scalars(select(Photo).where(Photo.request_id == request_id)).all()) == 2

    form = client.post(
        "/", data=_with_photos(FIELDS, "photo", 3), content_type="multipart/form-data"
    )
    assert form.status_code == 303
    newest = db.session.scalars(select(ServiceRequest).order_by(ServiceRequest.id.desc())).first()
    assert newest is not None
    assert len(db.session.scalars(select(Photo).where(Photo.request_id == newest.id)).all()) == 3


def test_a_completion_keeps_every_photo_and_the_first_goes_to_the_reporters(client, city, tokens):
    wo = work_order(city)
    resp = client.post(
        f"/api/v1/workorders/{wo.id}/complete",
        data=_with_photos({"note": "Patched"}, "photo", 2),
        content_type="multipart/form-data",
        headers=bearer(tokens["crew"]),
    )
    assert resp.status_code == 200, resp.get_json()
    db.session.expire_all()
    after = db.session.scalars(
        select(Photo).where(Photo.work_order_id == wo.id).order_by(Photo.id)
    ).all()
    assert [p.kind for p in after] == ["after", "after"]
    closed = db.session.scalars(
        select(RequestEvent).where(RequestEvent.kind == "closed").order_by(RequestEvent.id.desc())
    ).first()
    assert closed is not None and closed.data["photo_id"] == after[0].id


def test_the_resident_form_uses_the_photos_position_when_no_pin_is_placed(client, city):
    exif = Image.Exif()
    # WARD_1_POINT, as a phone writes it: degrees, minutes, seconds
    lat, long = WARD_1_POINT
    exif[0x8825] = {1: "N", 2: _dms(lat), 3: "W", 4: _dms(-long)}
    data = samples.encode(Image.new("RGB", (320, 240)), "JPEG", exif=exif)
    fields = {k: v for k, v in FIELDS.items() if k not in ("lat", "long")}
    resp = post_form(client, fields, photo=data, url="/")
    assert resp.status_code == 303, resp.get_data(as_text=True)[:3000]
    newest = db.session.scalars(select(ServiceRequest).order_by(ServiceRequest.id.desc())).first()
    assert newest is not None and newest.description == FIELDS["description"]


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 2)
    return (float(degrees), float(minutes), seconds)


#: the points that take several photos at once on an existing work order or request
SEVERAL_POINTS = {
    "notes-api": ("/api/v1/requests/{sr}/notes", "dispatcher", {"note": "Kerb damaged too"}),
    "staff-page-note": ("/staff/requests/{sr}/note", "dispatcher", {"note": "Kerb damaged too"}),
    "work-order-photo-api": ("/api/v1/workorders/{wo}/photos", "crew", {"kind": "before"}),
    "crew-page-photo": ("/crew/workorders/{wo}/photos", "crew", {"kind": "before"}),
}


def _post_several(client, city, tokens, point: str, wo, body: MultiDict[str, object]):
    url, role, _ = SEVERAL_POINTS[point]
    url = url.format(sr=wo.requests[0].id, wo=wo.id)
    if url.startswith("/api/"):
        return client.post(
            url, data=body, content_type="multipart/form-data", headers=bearer(tokens[role])
        )
    sign_in(client, city.users[role])
    return client.post(url, data=body, content_type="multipart/form-data")


@pytest.mark.parametrize("point", list(SEVERAL_POINTS))
def test_notes_and_work_order_photos_take_several_photos(client, city, tokens, point):
    wo = work_order(city)
    before = counts()
    body = _with_photos(SEVERAL_POINTS[point][2], "photo", 3)
    resp = _post_several(client, city, tokens, point, wo, body)
    assert resp.status_code in (201, 303), resp.get_data(as_text=True)[:1000]
    db.session.expire_all()
    assert counts()[1] == before[1] + 3
    newest = db.session.scalars(select(Photo).order_by(Photo.id.desc()).limit(3)).all()
    if point in ("notes-api", "staff-page-note"):
        # an internal note (the default): its photos are the request's, for staff only
        assert {p.kind for p in newest} == {"internal"}
        assert {p.request_id for p in newest} == {wo.requests[0].id}
        note = db.session.scalars(
            select(RequestEvent).where(RequestEvent.kind == "note").order_by(RequestEvent.id.desc())
        ).first()
        assert note is not None and sorted(note.data["photo_ids"]) == sorted(p.id for p in newest)
    else:
        assert {p.kind for p in newest} == {"before"}
        assert {p.work_order_id for p in newest} == {wo.id}


@pytest.mark.parametrize("point", list(SEVERAL_POINTS))
@pytest.mark.parametrize("bad", ["truncated", "too-many"])
def test_one_bad_file_among_several_keeps_them_all_out(client, app, city, tokens, point, bad):
    wo = work_order(city)
    files = stored_files(app)
    before = counts()
    n = 2 if bad == "truncated" else app.config.get("MAX_PHOTOS_PER_UPLOAD", 3) + 1
    body = _with_photos(SEVERAL_POINTS[point][2], "photo", n)
    if bad == "truncated":
        body.add("photo", _file(sample("truncated-jpeg"), "cut.jpg"))
    resp = _post_several(client, city, tokens, point, wo, body)
    page = html.unescape(resp.get_data(as_text=True))
    if point == "crew-page-photo":
        assert resp.status_code == 303  # back to the crew page, with the error flashed
        page = html.unescape(client.get(resp.headers["Location"]).get_data(as_text=True))
    else:
        assert resp.status_code == 400, page[:500]
    hint = "cut short" if bad == "truncated" else f"at most {n - 1} photos"
    assert hint in page, page[:3000]
    db.session.expire_all()
    assert counts() == before
    assert stored_files(app) == files


@pytest.mark.parametrize("point", ["notes-api", "work-order-photo-api"])
def test_a_retried_upload_of_several_photos_stores_them_once(client, city, tokens, point):
    wo = work_order(city)
    before = counts()
    fields = {"note": "Kerb damaged too", "public": "true"} if point == "notes-api" else {}
    body = {**SEVERAL_POINTS[point][2], **fields}
    answers = []
    for _ in range(2):
        resp = client.post(
            SEVERAL_POINTS[point][0].format(sr=wo.requests[0].id, wo=wo.id),
            data=_with_photos(body, "photo", 2),
            content_type="multipart/form-data",
            headers={**bearer(tokens[SEVERAL_POINTS[point][1]]), "Idempotency-Key": "k-1"},
        )
        answers.append((resp.status_code, resp.get_json()))
    assert answers[0] == answers[1] and answers[0][0] == 201
    db.session.expire_all()
    after = counts()
    assert after[1] == before[1] + 2
    if point == "notes-api":
        assert after[2] == before[2] + 1  # one note
        # a public note's photos are public: the tracking API lists them
        public = client.get(f"/api/v1/requests/{wo.requests[0].id}").get_json()
        assert len(public["photos"]) == 2

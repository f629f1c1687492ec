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
from sqlalchemy import func, select
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


UPLOAD_POINTS: dict[str, Callable[..., TestResponse]] = {
    "resident-form": resident_form,
    "json-api": json_api,
    "open311": open311,
    "completion-api": completion_api,
    "work-order-photo-api": work_order_photo_api,
    "crew-page-completion": crew_page_completion,
    "crew-page-photo": crew_page_photo,
}


#: the points that take a photo of an existing work order
ORDER_POINTS = {"completion-api", "work-order-photo-api", "crew-page-completion", "crew-page-photo"}


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

"""Originals for staff only, and internal notes' photos never at the public URLs."""

from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.media import service as media
from app.media import tasks
from app.media.models import Photo
from app.requests import lifecycle
from app.workorders import service as workorders
from tests import factories
from tests.factories import jpeg_bytes
from tests.helpers import sign_in
from tests.media import samples
from tests.media.test_photos import fetch

# the roles asked (the `people` fixture adds the parks crew member), and who may read a
# Public Works request's private data, and so its photos as uploaded
from tests.requests.test_access_matrix import PRIVATE_READERS as READERS
from tests.requests.test_access_matrix import WHO


@pytest.fixture
def people(city: factories.City) -> dict[str, object]:
    city.users["parks_crew"] = factories.make_user(
        "parks.crew@city.test", "crew", department_id=city.parks.id, crew_id=city.parks_crew.id
    )
    return city.users


def _as(client: FlaskClient, people, who: str) -> None:
    if who != "anonymous":
        sign_in(client, people[who])


def _report_photo(data: bytes) -> Photo:
    sr = factories.submit()
    photo = media.attach_photo(media.check_photo_bytes(data), kind="report", request_id=sr.id)
    db.session.commit()
    return photo


@pytest.mark.parametrize("who", WHO)
def test_the_original_of_a_report_photo_is_for_its_departments_readers(client, city, people, who):
    sent = samples.png_with_text("Home of J. Doe")  # metadata the public copies drop
    photo = _report_photo(sent)
    _as(client, people, who)
    resp = fetch(client, f"/staff/photos/{photo.id}/original")
    if who == "anonymous":
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]
        return
    if who not in READERS:
        assert resp.status_code == 403
        assert sent not in resp.data
        return
    assert resp.status_code == 200
    assert resp.data == sent  # as uploaded, metadata and all
    assert resp.mimetype == "image/png"
    assert resp.headers["Cache-Control"] == "private, no-store"
    assert resp.headers["Content-Disposition"].startswith("inline;")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("who", WHO)
def test_the_original_of_a_crews_photo_follows_its_requests(client, city, people, who):
    sr = factories.submit()
    wo = workorders.create_work_order([sr.id], city.crew_a.id, actor=city.users["dispatcher"])
    sent = jpeg_bytes(gps=True)
    photo = workorders.add_photo(
        wo, actor=city.users["crew"], photo=media.check_photo_bytes(sent), kind="before"
    )
    db.session.commit()
    _as(client, people, who)
    resp = fetch(client, f"/staff/photos/{photo.id}/original")
    expected = 302 if who == "anonymous" else 200 if who in READERS else 403
    assert resp.status_code == expected
    assert (resp.data == sent) == (expected == 200)
    if expected == 200:
        assert resp.mimetype == "image/jpeg"


def test_unknown_photos_sizes_and_uploads_attached_to_nothing(client, city):
    sign_in(client, city.users["admin"])
    assert fetch(client, "/staff/photos/999999/original").status_code == 404
    photo = _report_photo(jpeg_bytes())
    assert fetch(client, f"/staff/photos/{photo.id}/huge").status_code == 404
    loose = media.attach_photo(media.check_photo_bytes(jpeg_bytes()), kind="report")
    db.session.commit()
    # an abandoned upload belongs to no request: nobody has a reason to read it
    assert fetch(client, f"/staff/photos/{loose.id}/original").status_code == 403


def test_the_staff_page_links_originals_for_readers_only(client, city, people):
    photo = _report_photo(jpeg_bytes())
    link = f"/staff/photos/{photo.id}/original"
    sign_in(client, people["dispatcher"])
    assert link in client.get(f"/staff/requests/{photo.request_id}").get_data(as_text=True)
    sign_in(client, people["parks_dispatcher"])
    page = client.get(f"/staff/requests/{photo.request_id}")
    assert page.status_code == 200 and link not in page.get_data(as_text=True)
    # and the public tracking page never does
    client.post("/logout")
    assert link not in client.get(f"/requests/{photo.request_id}").get_data(as_text=True)


def test_an_internal_notes_photos_are_shown_to_staff_only(client, city, people):
    sr = factories.submit()
    lifecycle.add_note(
        sr,
        actor_id=city.users["dispatcher"].id,
        note="Resident's car blocks the hole",
        public=False,
        photos=[media.check_photo_bytes(jpeg_bytes(color="blue"))],
    )
    db.session.commit()
    photo = db.session.scalars(select(Photo).where(Photo.request_id == sr.id)).one()
    assert photo.kind == "internal"
    tasks.make_derivatives(photo.id)

    # never at the public URL, on the tracking page or in the public API
    assert fetch(client, f"/photos/{photo.id}/thumb.jpg").status_code == 404
    assert f"/photos/{photo.id}/" not in client.get(f"/requests/{sr.id}").get_data(as_text=True)
    assert client.get(f"/api/v1/requests/{sr.id}").get_json()["photos"] == []
    open311 = client.get(f"/open311/v2/requests/{sr.id}.json")
    assert open311.status_code == 200 and f"/photos/{photo.id}/" not in open311.get_data(
        as_text=True
    )

    staff_thumb = f"/staff/photos/{photo.id}/thumb"
    sign_in(client, people["dispatcher"])
    assert staff_thumb in client.get(f"/staff/requests/{sr.id}").get_data(as_text=True)
    resp = fetch(client, staff_thumb)
    assert resp.status_code == 200 and resp.mimetype == "image/jpeg"
    assert resp.headers["Cache-Control"] == "private, no-store"
    sign_in(client, people["parks_dispatcher"])
    assert staff_thumb not in client.get(f"/staff/requests/{sr.id}").get_data(as_text=True)
    assert fetch(client, staff_thumb).status_code == 403


def test_a_public_notes_photos_are_public(client, city, people):
    sr = factories.submit()
    sign_in(client, people["dispatcher"])
    resp = client.post(
        f"/staff/requests/{sr.id}/note",
        data={"note": "Cones placed", "public": "1", "photo": (_png(), "cones.png")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 303
    assert "with 1 photo" in client.get(resp.headers["Location"]).get_data(as_text=True)
    photo = db.session.scalars(select(Photo).where(Photo.request_id == sr.id)).one()
    assert photo.kind == "note"
    tasks.make_derivatives(photo.id)
    client.post("/logout")
    assert fetch(client, f"/photos/{photo.id}/thumb.jpg").status_code == 200
    assert f"/photos/{photo.id}/thumb.jpg" in client.get(f"/requests/{sr.id}").get_data(
        as_text=True
    )


def _png() -> io.BytesIO:
    return io.BytesIO(samples.png_with_text("cones"))

"""Public photo serving: derivatives only, with no EXIF or GPS left, never the originals."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

from PIL import Image

from app.extensions import db
from app.media import service as media
from app.media import tasks
from app.media.models import Photo
from app.media.storage import get_storage
from tests.factories import WARD_1_POINT, jpeg_bytes
from tests.requests.test_api import post_form

GPS_IFD = 0x8825


def fetch(client, url: str):
    """GET a URL and close the response, which releases the file send_file opened."""
    resp = client.get(url)
    resp.get_data()
    resp.close()
    return resp


def upload(client, photo: bytes) -> Photo:
    resp = post_form(
        client,
        {
            "service_code": "pothole",
            "description": "Pothole, photo attached",
            "lat": WARD_1_POINT[0],
            "long": WARD_1_POINT[1],
        },
        photo=photo,
    )
    assert resp.status_code == 201, resp.get_json()
    return db.session.get(Photo, int(urlsplit(resp.get_json()["photo_url"]).path.split("/")[2]))


def test_before_the_worker_resizes_the_jpeg_url_redirects_to_a_placeholder(client, city):
    photo = upload(client, jpeg_bytes((2400, 1800), gps=True))
    resp = fetch(client, f"/photos/{photo.id}/thumb.jpg")
    # never 200 under the .jpg name: a client saving the answer would keep the placeholder
    assert resp.status_code == 302
    assert "no-store" in resp.headers["Cache-Control"]
    assert int(resp.headers["Retry-After"]) > 0
    placeholder = fetch(client, resp.headers["Location"])
    assert placeholder.status_code == 200
    assert placeholder.mimetype == "image/svg+xml"
    assert b"being processed" in placeholder.data
    assert not get_storage().exists(media.derivative_key(photo.stored_name, "thumb"))
    db.session.refresh(photo)
    assert photo.processed_at is None


def test_phone_photo_is_served_without_exif_or_gps_and_at_most_1600px(client, city):
    photo = upload(client, jpeg_bytes((2400, 1800), gps=True))
    # the stored original still has its GPS: the stripping below is what protects the reporter
    with Image.open(io.BytesIO(media.read_original(photo.stored_name) or b"")) as original:
        assert original.getexif().get_ifd(GPS_IFD)
    tasks.make_derivatives(photo.id)  # the worker's job

    resp = fetch(client, f"/photos/{photo.id}/display.jpg")
    assert resp.status_code == 200
    assert resp.mimetype == "image/jpeg"
    assert resp.cache_control.public and resp.cache_control.max_age >= 3600
    with Image.open(io.BytesIO(resp.data)) as img:
        assert img.format == "JPEG"
        assert max(img.size) == 1600
        exif = img.getexif()
        assert len(exif) == 0
        assert not exif.get_ifd(GPS_IFD)
        assert "exif" not in img.info

    thumb = fetch(client, f"/photos/{photo.id}/thumb.jpg")
    assert thumb.status_code == 200
    with Image.open(io.BytesIO(thumb.data)) as img:
        assert max(img.size) <= 320
        assert len(img.getexif()) == 0


def test_photo_made_by_the_worker_job_is_served_and_marked_processed(client, city):
    photo = upload(client, jpeg_bytes((800, 600), gps=True))
    tasks.make_derivatives(photo.id)
    db.session.refresh(photo)
    assert photo.processed_at is not None
    resp = fetch(client, f"/photos/{photo.id}/display.jpg")
    assert resp.status_code == 200
    with Image.open(io.BytesIO(resp.data)) as img:
        assert img.size == (800, 600)  # never enlarged
        assert not img.getexif().get_ifd(GPS_IFD)


def test_originals_and_unknown_photos_are_not_served(client, city):
    photo = upload(client, jpeg_bytes(gps=True))
    assert fetch(client, f"/photos/{photo.id}/original.jpg").status_code == 404
    assert fetch(client, f"/photos/{photo.id}/{photo.stored_name}.jpg").status_code == 404
    assert fetch(client, "/photos/987654321/display.jpg").status_code == 404

"""Public copies: upright, pixels only; photos that cannot be processed fail alone."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import Image, ImageCms
from sqlalchemy import update

from app.core.queue import get_queue
from app.extensions import db
from app.media import service as media
from app.media import tasks
from app.media.models import Photo
from tests.factories import WARD_1_POINT, jpeg_bytes
from tests.media import samples
from tests.media.test_photos import fetch, upload
from tests.requests.test_api import post_form

SECRET = "Home of J. Doe, 12 Elm St"


def public_copies(client, photo: Photo) -> list[bytes]:
    tasks.make_derivatives(photo.id)
    copies = []
    for size in media.DERIVATIVES:
        resp = fetch(client, f"/photos/{photo.id}/{size}.jpg")
        assert resp.status_code == 200
        assert resp.mimetype == "image/jpeg"
        copies.append(resp.data)
    return copies


def assert_pixels_only(data: bytes) -> None:
    assert SECRET.encode() not in data and b"Elm St" not in data
    assert b"\xff\xfe" not in data[: data.index(b"\xff\xda")]  # no JPEG comment segment
    assert b"Exif" not in data and b"http://ns.adobe.com/xap" not in data
    with Image.open(io.BytesIO(data)) as img:
        assert len(img.getexif()) == 0
        assert not {"comment", "exif", "icc_profile", "xmp"} & set(img.info)


def test_jpeg_comment_and_gps_never_reach_the_public_copies(client, city):
    photo = upload(client, samples.jpeg_with_comment(SECRET))
    # the private original keeps everything, for staff
    original = media.read_original(photo.stored_name) or b""
    assert SECRET.encode() in original
    for data in public_copies(client, photo):
        assert_pixels_only(data)


def test_png_text_chunks_never_reach_the_public_copies(client, city):
    photo = upload(client, samples.png_with_text(SECRET))
    for data in public_copies(client, photo):
        assert_pixels_only(data)


def test_colour_profile_is_converted_to_srgb_and_dropped(client, city):
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for icc in (srgb, profile):
        img = Image.new("RGB", (400, 300), (200, 30, 30))
        photo = upload(client, samples.encode(img, "JPEG", icc_profile=icc))
        for data in public_copies(client, photo):
            assert_pixels_only(data)


def test_exif_orientation_is_applied_before_it_is_dropped(client, city):
    img = Image.new("RGB", (600, 300), "white")
    img.paste((255, 0, 0), (0, 0, 300, 300))  # left half red: after a 90° turn, it is on top
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: rotate 90° clockwise to show
    photo = upload(client, samples.encode(img, "JPEG", exif=exif, quality=95))
    display, _ = public_copies(client, photo)
    with Image.open(io.BytesIO(display)) as shown:
        assert shown.size == (300, 600)
        r, g, b = shown.convert("RGB").getpixel((150, 100))
        assert r > 200 and g < 60 and b < 60


def test_intake_api_returns_the_photos_gps_position_and_time(client, city):
    exif = Image.Exif()
    exif[0x8825] = {
        1: "N",
        2: (42.0, 19.0, 12.0),
        3: "W",
        4: (71.0, 4.0, 48.0),
        7: (14.0, 30.0, 5.0),
        29: "2026:11:02",
    }
    data = samples.encode(Image.new("RGB", (320, 240)), "JPEG", exif=exif)
    fields = {"service_code": "pothole", "description": "Hole"}
    fields.update(lat=WARD_1_POINT[0], long=WARD_1_POINT[1])
    resp = post_form(client, fields, photo=data)
    assert resp.status_code == 201
    where = resp.get_json()["photo_location"]
    assert where["lat"] == pytest.approx(42.32, abs=1e-6)
    assert where["long"] == pytest.approx(-71.08, abs=1e-6)
    assert datetime.fromisoformat(where["taken_at"]) == datetime(2026, 11, 2, 14, 30, 5, tzinfo=UTC)

    plain = post_form(client, fields, photo=jpeg_bytes())
    assert plain.get_json()["photo_location"] is None


def _bad_photo(request_id: int | None = None) -> Photo:
    """A photo stored before uploads were decoded whole: its original cannot be read."""
    broken = samples.truncated_jpeg()
    accepted = media.ValidatedPhoto(data=broken, format="JPEG", width=800, height=600)
    return media.attach_photo(accepted, kind="report", request_id=request_id)


def test_a_photo_that_cannot_be_processed_fails_after_a_few_attempts(client, city):
    good = upload(client, jpeg_bytes())
    bad = _bad_photo(good.request_id)
    db.session.commit()
    for _ in range(media.MAX_ATTEMPTS - 1):
        with pytest.raises(media.DerivativeError):
            tasks.make_derivatives(bad.id)
    tasks.make_derivatives(bad.id)  # the last attempt gives up quietly: no endless retries
    db.session.refresh(bad)
    assert bad.failed_at is not None and bad.processed_at is None
    assert bad.attempts == media.MAX_ATTEMPTS
    tasks.make_derivatives(bad.id)
    assert db.session.get(Photo, bad.id).attempts == media.MAX_ATTEMPTS

    resp = fetch(client, f"/photos/{bad.id}/display.jpg")
    assert resp.status_code == 302 and "photo-unavailable" in resp.headers["Location"]
    # the good photo of the same request is not held back
    tasks.make_derivatives(good.id)
    assert fetch(client, f"/photos/{good.id}/display.jpg").status_code == 200


def test_a_worker_killed_on_a_photo_every_time_does_not_retry_it_forever(client, city):
    photo = upload(client, jpeg_bytes())
    # each attempt counted, none finished: as when the worker is killed mid-job
    db.session.execute(update(Photo).where(Photo.id == photo.id).values(attempts=3))
    db.session.commit()
    tasks.make_derivatives(photo.id)
    db.session.refresh(photo)
    assert photo.failed_at is not None


def test_the_sweep_reaches_a_lost_photo_behind_many_failing_ones(client, city):
    failing = [_bad_photo() for _ in range(30)]
    db.session.flush()
    db.session.execute(
        update(Photo).where(Photo.id.in_([p.id for p in failing])).values(attempts=2)
    )
    dead = [_bad_photo() for _ in range(5)]
    db.session.flush()
    db.session.execute(
        update(Photo)
        .where(Photo.id.in_([p.id for p in dead]))
        .values(attempts=3, failed_at=datetime.now(UTC))
    )
    lost = upload(client, jpeg_bytes())  # newest, and its job never ran
    db.session.commit()
    queue = get_queue("media")
    queue.empty()

    assert tasks.sweep_unprocessed(limit=10) == 10
    queued = queue.job_ids
    assert queued[0] == f"photo-{lost.id}"
    assert not {f"photo-{p.id}" for p in dead} & set(queued)
    queue.empty()


def test_heic_from_an_iphone_is_accepted_and_served_as_a_jpeg(client, city):
    pytest.importorskip("pillow_heif")
    photo = upload(client, samples.encode(samples.noisy((640, 480)), "HEIF", quality=80))
    assert photo.content_type == "image/heic"
    display, thumb = public_copies(client, photo)
    with Image.open(io.BytesIO(display)) as img:
        assert img.format == "JPEG" and img.size == (640, 480)


def test_a_truncated_heic_is_refused(client, city):
    pytest.importorskip("pillow_heif")
    data = samples.encode(samples.noisy((640, 480)), "HEIF", quality=80)
    fields = {"service_code": "pothole", "description": "Hole"}
    fields.update(lat=WARD_1_POINT[0], long=WARD_1_POINT[1])
    resp = post_form(client, fields, photo=data[: len(data) // 2])
    assert resp.status_code == 400
    assert "JPEG, PNG or WebP" in resp.get_json()["message"]

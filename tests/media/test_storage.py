"""The photo store, on the local disk and on an S3 server: whole files, public copies served
from it, and uploads attached to nothing deleted after a day."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from app.core.clock import utcnow
from app.extensions import db
from app.media import service as media
from app.media import tasks
from app.media.models import Photo
from app.media.storage import (
    LocalStorage,
    S3Storage,
    StorageUnavailable,
    check_settings,
    get_storage,
    s3_client,
)
from tests import s3server
from tests.conftest import free_port
from tests.factories import jpeg_bytes
from tests.media.test_photos import fetch, upload

#: S3 gives an object's time to the second: the files the test calls old are written this
#: long before the others, and "old" means older than TTL
GAP_SECONDS = 2.5
TTL = timedelta(seconds=1.5)


def disk_files(app: Flask) -> set[Path]:
    return {p for p in Path(app.config["MEDIA_ROOT"]).rglob("*") if p.is_file()}


def orphan_original(name: str) -> str:
    """Write an original as an intake does, with no row: as after its transaction rolled back."""
    key = media.original_key(name)
    get_storage().write(key, jpeg_bytes())
    return key


def test_the_store_writes_reads_lists_and_deletes(app, db_session, store):
    storage = get_storage()
    key = f"originals/zz/{store}-round-trip"
    assert storage.read(key) is None and not storage.exists(key)
    storage.write(key, b"first")
    storage.write(key, b"second")  # a rewrite replaces the whole file
    assert storage.read(key) == b"second" and storage.exists(key)
    later = utcnow() + timedelta(minutes=1)
    assert key in set(storage.older_than("originals", later))
    assert key not in set(storage.older_than("originals", later - timedelta(hours=1)))
    storage.delete(key)
    storage.delete(key)  # gone already: no error
    assert storage.read(key) is None and not storage.exists(key)


def test_an_upload_is_served_from_the_store_and_leaves_nothing_on_local_disk(
    client, app, city, store
):
    before = disk_files(app)
    photo = upload(client, jpeg_bytes((2400, 1800), gps=True))
    tasks.make_derivatives(photo.id)  # the worker's job, reading the original from the store

    resp = fetch(client, f"/photos/{photo.id}/display.jpg")
    assert resp.status_code == 200 and resp.mimetype == "image/jpeg"
    assert resp.cache_control.public and resp.cache_control.max_age >= 24 * 3600
    assert resp.headers["ETag"]
    again = client.get(
        f"/photos/{photo.id}/display.jpg", headers={"If-None-Match": resp.headers["ETag"]}
    )
    assert again.status_code == 304
    # the mail job's copy comes from the same store
    assert media.public_photo_bytes(photo.id, "display") == resp.data

    storage = get_storage()
    assert storage.exists(media.original_key(photo.stored_name))
    assert all(
        storage.exists(media.derivative_key(photo.stored_name, s)) for s in media.DERIVATIVES
    )
    if store == "s3":
        assert disk_files(app) == before
        keys = s3server.object_keys(
            app.config["MEDIA_S3_ENDPOINT_URL"], app.config["MEDIA_S3_BUCKET"]
        )
        assert f"city311/{media.original_key(photo.stored_name)}" in keys
    _remove(photo.stored_name)


def test_files_attached_to_nothing_for_a_day_are_deleted_and_others_kept(client, app, city, store):
    storage = get_storage()
    kept = upload(client, jpeg_bytes())
    tasks.make_derivatives(kept.id)  # old, but its request still has it
    stale = orphan_original("ab" + "0" * 30)
    half = None
    if store == "local":  # a write that died half-way leaves a .part file on a disk
        half = Path(app.config["MEDIA_ROOT"]) / (stale + "9.part")
        half.write_bytes(b"\xff\xd8")
    time.sleep(GAP_SECONDS)
    fresh = orphan_original("ab" + "1" * 30)  # an intake may be committing it right now

    assert media.delete_unattached(older_than=TTL) == 1
    db.session.commit()
    assert not storage.exists(stale)
    assert half is None or not half.exists()
    assert storage.exists(fresh)
    assert storage.exists(media.original_key(kept.stored_name))
    assert all(storage.exists(media.derivative_key(kept.stored_name, s)) for s in media.DERIVATIVES)
    # the test's rows are rolled back: leave no file behind for the next test to count
    _remove(kept.stored_name)
    storage.delete(fresh)


def test_a_photo_row_attached_to_nothing_is_deleted_after_a_day(client, city, store):
    loose = media.attach_photo(media.check_photo_bytes(jpeg_bytes()), kind="report")
    db.session.flush()
    loose.created_at = loose.created_at.replace(year=loose.created_at.year - 1)
    db.session.commit()
    key = media.original_key(loose.stored_name)
    assert get_storage().exists(key)
    assert tasks.delete_unattached() == 1
    assert not get_storage().exists(key)
    assert db.session.scalar(select(Photo).where(Photo.id == loose.id)) is None


def test_local_storage_never_leaves_its_root(tmp_path):
    store = LocalStorage(tmp_path / "media")
    store.write("originals/ab/x", b"1")
    assert (tmp_path / "media" / "originals" / "ab" / "x").read_bytes() == b"1"
    with pytest.raises(ValueError):
        store.write("../outside", b"2")
    assert not (tmp_path / "outside").exists()


def test_s3_storage_never_leaves_its_prefix(app, db_session, s3_endpoint):
    bucket = s3server.new_bucket(s3_endpoint)
    store = S3Storage(s3_client(s3server.settings(s3_endpoint, bucket)), bucket, "city311")
    store.write("originals/ab/x", b"1")
    with pytest.raises(ValueError):
        store.write("../outside", b"2")
    assert s3server.object_keys(s3_endpoint, bucket) == {"city311/originals/ab/x"}


def test_an_unknown_backend_or_a_bucketless_s3_store_refuses_to_start():
    # check_settings is what create_app runs; a whole second app would re-register the
    # session's API blueprints on the shared Api object
    for settings, says in (
        ({"MEDIA_STORAGE": "ftp"}, "unknown"),
        ({"MEDIA_STORAGE": "s3", "MEDIA_S3_BUCKET": None}, "MEDIA_S3_BUCKET"),
    ):
        bare = Flask("check")
        bare.config.update(settings)
        with pytest.raises(RuntimeError, match=says):
            check_settings(bare)
    ok = Flask("check")
    ok.config.update(MEDIA_STORAGE="s3", MEDIA_S3_BUCKET="photos")
    check_settings(ok)


def _remove(stored_name: str) -> None:
    storage = get_storage()
    storage.delete(media.original_key(stored_name))
    for size in media.DERIVATIVES:
        storage.delete(media.derivative_key(stored_name, size))


def test_a_store_that_does_not_answer_gives_503_and_costs_the_photo_no_attempt(client, app, city):
    photo = upload(client, jpeg_bytes())
    dead = s3server.settings(f"http://127.0.0.1:{free_port()}", "photos")  # nothing listens
    saved = {name: app.config.get(name) for name in dead}
    app.config.update(dead)
    try:
        resp = fetch(client, f"/photos/{photo.id}/display.jpg")
        assert resp.status_code == 503 and int(resp.headers["Retry-After"]) > 0
        assert "no-store" in resp.headers["Cache-Control"]
        for _ in range(media.MAX_ATTEMPTS + 1):
            with pytest.raises(StorageUnavailable):
                tasks.make_derivatives(photo.id)
    finally:
        app.config.update(saved)
    db.session.refresh(photo)
    # the outage is not the photo's fault: it is not given up on, and makes it later
    assert (photo.attempts, photo.failed_at) == (0, None)
    tasks.make_derivatives(photo.id)
    assert fetch(client, f"/photos/{photo.id}/display.jpg").status_code == 200

"""Storage: files written whole, and uploads attached to nothing deleted after a day."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.media import service as media
from app.media import tasks
from app.media.models import Photo
from app.media.storage import LocalStorage, get_storage
from tests.factories import jpeg_bytes
from tests.media.test_photos import upload

DAY_AND_A_BIT = 25 * 3600


def age(path: Path, seconds: int) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def orphan_original(name: str) -> Path:
    """Write an original as an intake does, with no row: as after its transaction rolled back."""
    get_storage().write(media.original_key(name), jpeg_bytes())
    return media.original_path(name)


def test_files_attached_to_nothing_for_a_day_are_deleted_and_others_kept(client, city):
    kept = upload(client, jpeg_bytes())
    tasks.make_derivatives(kept.id)
    kept_files = [media.original_path(kept.stored_name)] + [
        media.derivative_path(kept.stored_name, size) for size in media.DERIVATIVES
    ]
    for path in kept_files:
        age(path, DAY_AND_A_BIT)  # old, but its request still has it
    stale = orphan_original("ab" + "0" * 30)
    age(stale, DAY_AND_A_BIT)
    fresh = orphan_original("ab" + "1" * 30)  # an intake may be committing it right now
    half = stale.with_name(stale.name + "9.part")
    half.write_bytes(b"\xff\xd8")
    age(half, DAY_AND_A_BIT)

    assert tasks.delete_unattached() == 1
    assert not stale.exists() and not half.exists()
    assert fresh.exists()
    assert media.original_path(kept.stored_name).exists()
    assert all(path.exists() for path in kept_files)
    # the test's rows are rolled back: leave no old file behind for the next test to count
    for path in kept_files + [fresh]:
        path.unlink()


def test_a_photo_row_attached_to_nothing_is_deleted_after_a_day(client, city):
    loose = media.attach_photo(media.check_photo_bytes(jpeg_bytes()), kind="report")
    db.session.flush()
    loose.created_at = loose.created_at.replace(year=loose.created_at.year - 1)
    db.session.commit()
    path = media.original_path(loose.stored_name)
    assert path.exists()
    assert tasks.delete_unattached() == 1
    assert not path.exists()
    assert db.session.scalar(select(Photo).where(Photo.id == loose.id)) is None


def test_local_storage_never_leaves_its_root(tmp_path):
    store = LocalStorage(tmp_path / "media")
    store.write("originals/ab/x", b"1")
    assert (tmp_path / "media" / "originals" / "ab" / "x").read_bytes() == b"1"
    with pytest.raises(ValueError):
        store.write("../outside", b"2")
    assert not (tmp_path / "outside").exists()

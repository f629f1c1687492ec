"""Photo intake: validate uploads, store originals privately, make public derivatives off-line.

Originals are kept as uploaded (they may carry GPS metadata) and are never served publicly.
The public "display" and "thumb" derivatives are re-encoded from pixels only, so no EXIF,
GPS or other metadata survives; they are made by a worker job, never on the request path.
"""

from __future__ import annotations

import io
import secrets
import warnings
from datetime import timedelta
from typing import Literal, overload

from PIL import Image
from sqlalchemy import select

from app.core.clock import utcnow
from app.core.errors import NotFound
from app.core.queue import enqueue_after_commit
from app.extensions import db
from app.media.metadata import PhotoLocation, public_pixels
from app.media.models import Photo
from app.media.storage import get_storage
from app.media.validation import (
    ACCEPTED_FORMATS,
    OPEN_FORMATS,
    ValidatedPhoto,
    check_photo_bytes,
    decode_budget,
    max_photos,
    max_pixels,
    validate_photo,
    validate_photos,
    validate_uploads,
)

__all__ = [
    "ACCEPTED_FORMATS",
    "DERIVATIVES",
    "DerivativeError",
    "PhotoLocation",
    "ValidatedPhoto",
    "attach_photo",
    "check_photo_bytes",
    "delete_files",
    "derivative_key",
    "make_derivatives",
    "max_photos",
    "original_key",
    "public_photo_bytes",
    "read_original",
    "validate_photo",
    "validate_photos",
    "validate_uploads",
]

#: longest side, in pixels, of each public derivative
DERIVATIVES = {"display": 1600, "thumb": 320}
#: derivative jobs tried before a photo is marked failed
MAX_ATTEMPTS = 3
ORIGINALS = "originals"
#: uploads with no request or work order (a rolled-back intake) are deleted after this
UNATTACHED_TTL = timedelta(hours=24)


class DerivativeError(OSError):
    """A stored original could not be turned into public copies."""


def original_key(stored_name: str) -> str:
    return f"{ORIGINALS}/{stored_name[:2]}/{stored_name}"


def derivative_key(stored_name: str, size: str) -> str:
    return f"{size}/{stored_name[:2]}/{stored_name}.jpg"


def read_original(stored_name: str) -> bytes | None:
    """Return the uploaded file as it was sent (private: it may carry GPS); None if gone."""
    return get_storage().read(original_key(stored_name))


def attach_photo(
    photo: ValidatedPhoto,
    *,
    kind: str,
    request_id: int | None = None,
    work_order_id: int | None = None,
) -> Photo:
    """Store the original file and record it; derivatives are made by a job after commit."""
    stored_name = secrets.token_hex(16)
    # written before the row: a rolled-back transaction leaves a file with no row, which
    # delete_unattached removes a day later; never a row with no file
    get_storage().write(original_key(stored_name), photo.data)
    row = Photo(
        request_id=request_id,
        work_order_id=work_order_id,
        kind=kind,
        stored_name=stored_name,
        content_type=photo.content_type,
        width=photo.width,
        height=photo.height,
        bytes=len(photo.data),
    )
    db.session.add(row)
    db.session.flush()
    from app.media import tasks  # the job module imports this one

    enqueue_after_commit(tasks.make_derivatives, row.id, queue="media", job_id=f"photo-{row.id}")
    return row


def make_derivatives(photo: Photo) -> None:
    """Write the metadata-free display and thumbnail JPEGs of a photo (idempotent).

    :raises DerivativeError: the original cannot be decoded within the pixel budget.
    """
    storage = get_storage()
    keys = {size: derivative_key(photo.stored_name, size) for size in DERIVATIVES}
    if not all(storage.exists(key) for key in keys.values()):
        original = storage.read(original_key(photo.stored_name))
        if original is None:
            raise DerivativeError(f"photo {photo.id}: the original is missing from the store")
        try:
            display = _display_pixels(original)
        except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
            raise DerivativeError(f"photo {photo.id}: {exc}") from exc
        for size, longest in DERIVATIVES.items():
            img = display.copy()
            img.thumbnail((longest, longest), Image.Resampling.LANCZOS)
            buf = io.BytesIO()
            # no exif/icc/comment arguments and a fresh image: the file carries pixels only
            img.save(buf, "JPEG", quality=85, optimize=True, progressive=True)
            storage.write(keys[size], buf.getvalue())
    photo.processed_at = utcnow()
    photo.failed_at = None


def _display_pixels(src: bytes) -> Image.Image:
    """Decode an original, as small as its display size allows, upright and metadata-free."""
    longest = DERIVATIVES["display"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(src), formats=OPEN_FORMATS) as original:
            width, height = original.size
            if width * height > max_pixels():
                raise ValueError(f"{width}×{height} is over the pixel limit")
            if original.format in ("JPEG", "MPO"):
                # libjpeg decodes at 1/2, 1/4 or 1/8 scale: a 12 MP photo costs ~1/8 the memory
                original.draft("RGB", (longest, longest))
            elif width * height > decode_budget():
                raise ValueError(f"{width}×{height} is over the decoding budget")
            # shrink before the colour and orientation work, which copy the image
            original.thumbnail((longest, longest), Image.Resampling.LANCZOS)
            return public_pixels(original)


@overload
def public_photo_bytes(
    photo_id: int, size: str = ..., *, make_if_missing: Literal[True] = ...
) -> bytes: ...
@overload
def public_photo_bytes(
    photo_id: int, size: str = ..., *, make_if_missing: bool
) -> bytes | None: ...
def public_photo_bytes(
    photo_id: int, size: str = "display", *, make_if_missing: bool = True
) -> bytes | None:
    """Return a public derivative (a metadata-free JPEG); None when it is not made yet and must
    not be.

    Jobs pass make_if_missing=True (a mail job needs the photo now); the web view passes
    False, so that no resizing ever happens on a request.

    :raises NotFound: no such photo or size.
    :raises DerivativeError: the copy had to be made and the original cannot be.
    """
    if size not in DERIVATIVES:
        raise NotFound(f"Unknown photo size {size!r}; use one of {', '.join(DERIVATIVES)}.")
    photo = db.session.get(Photo, photo_id)
    if photo is None:
        raise NotFound(f"There is no photo {photo_id}.")
    if photo.failed_at is not None:
        raise NotFound(f"Photo {photo_id} could not be processed.")
    key = derivative_key(photo.stored_name, size)
    data = get_storage().read(key)
    if data is None:
        if not make_if_missing:
            return None
        make_derivatives(photo)
        data = get_storage().read(key)
        if data is None:
            raise DerivativeError(f"photo {photo_id}: its {size} copy was not stored")
    return data


def delete_unattached(older_than: timedelta = UNATTACHED_TTL) -> int:
    """Delete uploads attached to nothing for longer than older_than; return how many.

    Those are photo rows with neither a request nor a work order, and stored files with no
    row at all (written by an intake whose transaction then rolled back).
    """
    cutoff = utcnow() - older_than
    storage = get_storage()
    removed = 0
    rows = db.session.scalars(
        select(Photo).where(
            Photo.request_id.is_(None), Photo.work_order_id.is_(None), Photo.created_at < cutoff
        )
    ).all()
    for row in rows:
        delete_files(row.stored_name)
        db.session.delete(row)
        removed += 1
    old = {key.rsplit("/", 1)[-1]: key for key in storage.older_than(ORIGINALS, cutoff)}
    names = list(old)
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        known = set(
            db.session.scalars(select(Photo.stored_name).where(Photo.stored_name.in_(chunk)))
        )
        for name in chunk:
            if name.endswith(".part"):
                storage.delete(old[name])  # a write that died half-way
            elif name not in known:
                delete_files(name)
                removed += 1
    db.session.flush()
    return removed


def delete_files(stored_name: str) -> None:
    """Delete a photo's original and public copies from the store (no error if gone)."""
    storage = get_storage()
    storage.delete(original_key(stored_name))
    for size in DERIVATIVES:
        storage.delete(derivative_key(stored_name, size))

"""Photo intake: validate uploads, store originals privately, make public derivatives off-line.

Originals are kept as uploaded (they may carry GPS metadata) and are never served publicly.
The public "display" and "thumb" derivatives are re-encoded from pixels only, so no EXIF,
GPS or other metadata survives; they are made by a worker job, never on the request path.
"""

from __future__ import annotations

import io
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal, overload

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

from app.core.clock import utcnow
from app.core.errors import InvalidPhoto, NotFound, PhotoTooLarge
from app.core.queue import enqueue_after_commit
from app.extensions import db
from app.media.models import Photo

ACCEPTED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
#: longest side, in pixels, of each public derivative
DERIVATIVES = {"display": 1600, "thumb": 320}
#: refuse decompression bombs well before Pillow's own warning threshold
MAX_PIXELS = 50_000_000


@dataclass(frozen=True)
class ValidatedPhoto:
    data: bytes
    format: str
    width: int
    height: int

    @property
    def content_type(self) -> str:
        return ACCEPTED_FORMATS[self.format]


def validate_photo(stream: IO[bytes], *, field: str = "photo") -> ValidatedPhoto:
    """Read an upload and check that it is a JPEG, PNG or WebP image within the size limit.

    :raises PhotoTooLarge: the file is over MAX_PHOTO_BYTES (413).
    :raises InvalidPhoto: the file is empty, not an image, or of another format (400).
    """
    limit = current_app.config["MAX_PHOTO_BYTES"]
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise PhotoTooLarge(
            f"The photo is too large: at most {limit / (1024 * 1024):g} MB is accepted.",
            field=field,
        )
    if not data:
        raise InvalidPhoto("The photo file is empty.", field=field)
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format or ""
            width, height = img.size
            img.verify()  # checks structure without decoding every pixel
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise InvalidPhoto(
            "The file is not an image we can read: send a JPEG, PNG or WebP photo.", field=field
        ) from None
    if fmt not in ACCEPTED_FORMATS:
        raise InvalidPhoto(
            f"Photos must be JPEG, PNG or WebP, not {fmt or 'this format'}.", field=field
        )
    if width * height > MAX_PIXELS:
        raise InvalidPhoto(
            f"The photo has too many pixels ({width}×{height}); send one under 50 megapixels.",
            field=field,
        )
    return ValidatedPhoto(data=data, format=fmt, width=width, height=height)


def media_root() -> Path:
    return Path(current_app.config["MEDIA_ROOT"])


def original_path(stored_name: str) -> Path:
    return media_root() / "originals" / stored_name[:2] / stored_name


def derivative_path(stored_name: str, size: str) -> Path:
    return media_root() / size / stored_name[:2] / f"{stored_name}.jpg"


def attach_photo(
    photo: ValidatedPhoto,
    *,
    kind: str,
    request_id: int | None = None,
    work_order_id: int | None = None,
) -> Photo:
    """Store the original file and record it; derivatives are made by a job after commit."""
    stored_name = secrets.token_hex(16)
    path = original_path(stored_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(photo.data)
    os.replace(tmp, path)  # never leave a half-written original behind a committed row
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
    """Write the metadata-free display and thumbnail JPEGs of a photo (idempotent)."""
    src = original_path(photo.stored_name)
    for size, longest in DERIVATIVES.items():
        dest = derivative_path(photo.stored_name, size)
        if dest.exists():
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(src) as original:
            # draft mode lets libjpeg decode at 1/2, 1/4 or 1/8 scale: far less work for big photos
            original.draft("RGB", (longest, longest))
            # bake in the orientation before EXIF is dropped
            img = ImageOps.exif_transpose(original).convert("RGB")
            img.thumbnail((longest, longest), Image.Resampling.LANCZOS)
            tmp = dest.with_suffix(".part")
            # a fresh encode with no exif/icc arguments carries pixels only: GPS is gone
            img.save(tmp, "JPEG", quality=85, optimize=True, progressive=True)
            os.replace(tmp, dest)
    photo.processed_at = utcnow()


@overload
def public_photo_file(
    photo_id: int, size: str = ..., *, make_if_missing: Literal[True] = ...
) -> Path: ...
@overload
def public_photo_file(photo_id: int, size: str = ..., *, make_if_missing: bool) -> Path | None: ...
def public_photo_file(
    photo_id: int, size: str = "display", *, make_if_missing: bool = True
) -> Path | None:
    """Return the path of a public derivative; None when it is not made yet and must not be.

    Jobs pass make_if_missing=True (a mail job needs the photo now); the web view passes
    False, so that no resizing ever happens on a request.

    :raises NotFound: no such photo or size.
    """
    if size not in DERIVATIVES:
        raise NotFound(f"Unknown photo size {size!r}; use one of {', '.join(DERIVATIVES)}.")
    photo = db.session.get(Photo, photo_id)
    if photo is None:
        raise NotFound(f"There is no photo {photo_id}.")
    path = derivative_path(photo.stored_name, size)
    if not path.exists():
        if not make_if_missing:
            return None
        make_derivatives(photo)
    return path

"""Photo intake: validate uploads, store originals privately, make public derivatives off-line.

Originals are kept as uploaded (they may carry GPS metadata) and are never served publicly.
The public "display" and "thumb" derivatives are re-encoded from pixels only, so no EXIF,
GPS or other metadata survives; they are made by a worker job, never on the request path.
"""

from __future__ import annotations

import os
import secrets
import warnings
from pathlib import Path
from typing import Literal, overload

from flask import current_app
from PIL import Image

from app.core.clock import utcnow
from app.core.errors import NotFound
from app.core.queue import enqueue_after_commit
from app.extensions import db
from app.media.metadata import PhotoLocation, public_pixels
from app.media.models import Photo
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
)

__all__ = [
    "ACCEPTED_FORMATS",
    "DERIVATIVES",
    "DerivativeError",
    "PhotoLocation",
    "ValidatedPhoto",
    "attach_photo",
    "check_photo_bytes",
    "derivative_path",
    "make_derivatives",
    "original_path",
    "public_photo_file",
    "max_photos",
    "validate_photo",
    "validate_photos",
]

#: longest side, in pixels, of each public derivative
DERIVATIVES = {"display": 1600, "thumb": 320}
#: derivative jobs tried before a photo is marked failed
MAX_ATTEMPTS = 3


class DerivativeError(OSError):
    """A stored original could not be turned into public copies."""


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
    """Write the metadata-free display and thumbnail JPEGs of a photo (idempotent).

    :raises DerivativeError: the original cannot be decoded within the pixel budget.
    """
    dests = {size: derivative_path(photo.stored_name, size) for size in DERIVATIVES}
    if not all(dest.exists() for dest in dests.values()):
        try:
            display = _display_pixels(original_path(photo.stored_name))
        except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
            raise DerivativeError(f"photo {photo.id}: {exc}") from exc
        for size, longest in DERIVATIVES.items():
            img = display.copy()
            img.thumbnail((longest, longest), Image.Resampling.LANCZOS)
            dest = dests[size]
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_suffix(".part")
            # no exif/icc/comment arguments and a fresh image: the file carries pixels only
            img.save(tmp, "JPEG", quality=85, optimize=True, progressive=True)
            os.replace(tmp, dest)
    photo.processed_at = utcnow()
    photo.failed_at = None


def _display_pixels(src: Path) -> Image.Image:
    """Decode an original, as small as its display size allows, upright and metadata-free."""
    longest = DERIVATIVES["display"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(src, formats=OPEN_FORMATS) as original:
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
    if photo.failed_at is not None:
        raise NotFound(f"Photo {photo_id} could not be processed.")
    path = derivative_path(photo.stored_name, size)
    if not path.exists():
        if not make_if_missing:
            return None
        make_derivatives(photo)
    return path

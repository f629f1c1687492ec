"""Upload checks: identify a photo by its bytes, and decode it whole within a pixel budget.

Nothing is written anywhere until a file has passed every check here, so a refused upload
leaves no request, photo row or file behind.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from flask import current_app
from PIL import Image, UnidentifiedImageError
from werkzeug.datastructures import FileStorage

from app.core.errors import InvalidPhoto, PhotoTooLarge
from app.media.metadata import PhotoLocation, read_location

#: Pillow's format name → the content type we record; MPO is a multi-picture JPEG
ACCEPTED_FORMATS = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
}
#: what Image.open may try; multi-picture JPEGs open through the JPEG plugin
OPEN_FORMATS = ["JPEG", "PNG", "WEBP"]

try:  # HEIC, as iPhones write by default, where the optional pillow-heif is installed
    import pillow_heif

    pillow_heif.register_heif_opener()
    ACCEPTED_FORMATS["HEIF"] = "image/heic"
    OPEN_FORMATS.append("HEIF")
except ImportError:  # pragma: no cover - depends on the install
    pass
#: the ISO-BMFF brands of HEIC/HEIF still images
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1"}
SEND_INSTEAD = "Send a JPEG, PNG or WebP photo."

#: leading bytes of the accepted formats (checked before Pillow sees the file)
_JPEG = b"\xff\xd8\xff"
_PNG = b"\x89PNG\r\n\x1a\n"

#: leading bytes of what people (or attackers) send instead, to say what was refused
_KNOWN_OTHERS: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "a GIF"),
    (b"GIF89a", "a GIF"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"%PDF", "a PDF"),
    (b"BM", "a BMP image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
)
#: markup a browser would run or render if the original were ever sniffed as HTML or SVG
_MARKUP = re.compile(rb"<(?:script|html|body|iframe|svg|!doctype|\?php)[\s>/]", re.IGNORECASE)


@dataclass(frozen=True)
class ValidatedPhoto:
    data: bytes
    format: str
    width: int
    height: int
    #: where and when the camera says the photo was taken, if it says so
    location: PhotoLocation | None = None

    @property
    def content_type(self) -> str:
        return ACCEPTED_FORMATS[self.format]

    @property
    def taken_at(self) -> datetime | None:
        return self.location.taken_at if self.location else None


def max_photos() -> int:
    """Return how many photos one report, note or completion may carry."""
    return int(current_app.config.get("MAX_PHOTOS_PER_UPLOAD", 3))


def validate_photos(streams: Sequence[IO[bytes]], *, field: str = "photo") -> list[ValidatedPhoto]:
    """Check the files of one upload (see validate_photo); at most MAX_PHOTOS_PER_UPLOAD.

    :raises InvalidPhoto: too many files, or any one of them is refused.
    """
    if len(streams) > max_photos():
        raise InvalidPhoto(
            f"Send at most {max_photos()} photos at a time; this upload has {len(streams)}.",
            field=field,
        )
    return [validate_photo(stream, field=field) for stream in streams]


def validate_uploads(
    uploads: Sequence[FileStorage], *, field: str = "photo"
) -> list[ValidatedPhoto]:
    """Check the files of a form field that may be repeated (see validate_photos); [] for none.

    A browser with no file chosen still sends the part, with no file name and no bytes:
    such parts are skipped.
    """
    streams = []
    for upload in uploads:
        if not upload.filename:
            if not upload.stream.read(1):
                continue
            upload.stream.seek(0)
        streams.append(upload.stream)
    return validate_photos(streams, field=field)


def max_pixels() -> int:
    """Return the most pixels (width × height) a photo may have."""
    return int(current_app.config.get("MAX_PHOTO_PIXELS", 50_000_000))


def decode_budget() -> int:
    """Return the most pixels decoded at once; JPEGs are decoded scaled down to fit it."""
    return int(current_app.config.get("PHOTO_DECODE_PIXELS", 16_000_000))


def sniff(data: bytes) -> str | None:
    """Return the accepted format the bytes start with, or None."""
    if data.startswith(_JPEG):
        return "JPEG"
    if data.startswith(_PNG):
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if "HEIF" in ACCEPTED_FORMATS and data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "HEIF"
    return None


def _describe(data: bytes) -> str | None:
    for magic, name in _KNOWN_OTHERS:
        if data.startswith(magic):
            return name
    head = data[:1024].lstrip().lower()
    if b"<svg" in head or (head.startswith(b"<?xml") and b"svg" in head):
        return "an SVG drawing"
    if head.startswith((b"<!doctype", b"<html", b"<")):
        return "an HTML or XML document"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc"):
        return "a HEIC photo (set your camera to 'Most Compatible')"
    return None


def _refuse(message: str, field: str, *, say_formats: bool = True) -> InvalidPhoto:
    return InvalidPhoto(f"{message} {SEND_INSTEAD}" if say_formats else message, field=field)


def validate_photo(stream: IO[bytes], *, field: str = "photo") -> ValidatedPhoto:
    """Read an upload and accept it only if it is a whole JPEG, PNG or WebP photo.

    :raises PhotoTooLarge: the file is over MAX_PHOTO_BYTES (413).
    :raises InvalidPhoto: empty, another format, a polyglot, truncated or corrupt, or too
        many pixels (400); the message says what to send instead.
    """
    limit = current_app.config["MAX_PHOTO_BYTES"]
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise PhotoTooLarge(
            f"The photo is too large: at most {limit / (1024 * 1024):g} MB is accepted.",
            field=field,
        )
    return check_photo_bytes(data, field=field)


def check_photo_bytes(data: bytes, *, field: str = "photo") -> ValidatedPhoto:
    """Check bytes already read (see validate_photo)."""
    if not data:
        raise _refuse("The photo file is empty.", field)
    sniffed = sniff(data)
    if sniffed is None:
        what = _describe(data)
        raise _refuse(f"The file is {what + ', ' if what else ''}not an image we accept.", field)
    # A file that is also a ZIP or carries markup is a polyglot: whatever opens it as the
    # other thing (a browser sniffing the original, an unzip tool) would run what it hides.
    if zipfile.is_zipfile(io.BytesIO(data)) or _MARKUP.search(data):
        raise _refuse(
            "The file is not an image only: it hides another document inside the picture.", field
        )
    try:
        with warnings.catch_warnings():
            # our own pixel check below replaces Pillow's bomb warning
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=OPEN_FORMATS) as img:
                fmt = img.format or ""
                width, height = img.size
                if fmt not in ACCEPTED_FORMATS or ACCEPTED_FORMATS[fmt] != _type_of(sniffed):
                    raise _refuse("The file is not an image we can read.", field)
                if width * height > max_pixels():
                    raise _refuse(
                        f"The photo has too many pixels ({width}×{height}); send one under "
                        f"{max_pixels() / 1_000_000:g} megapixels.",
                        field,
                        say_formats=False,
                    )
                if getattr(img, "is_animated", False) and fmt != "MPO":
                    raise _refuse("Animated images are not accepted.", field)
                _decode_whole(img, field)
                location = read_location(img)
    except InvalidPhoto:
        raise
    except Image.DecompressionBombError:
        raise _refuse(
            f"The photo has too many pixels; send one under {max_pixels() / 1_000_000:g} "
            "megapixels.",
            field,
            say_formats=False,
        ) from None
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
    ):
        raise _refuse(
            "The photo is damaged or cut short: it cannot be read whole.", field
        ) from None
    return ValidatedPhoto(data=data, format=fmt, width=width, height=height, location=location)


def _type_of(fmt: str) -> str:
    return ACCEPTED_FORMATS["JPEG" if fmt == "MPO" else fmt]


def _decode_whole(img: Image.Image, field: str) -> None:
    """Decode every pixel, so a truncated or corrupt file is caught, within the budget.

    verify() only walks the file's structure; a JPEG cut after its header passes it.
    """
    budget = decode_budget()
    width, height = img.size
    if img.format in ("JPEG", "MPO"):
        # libjpeg reads the whole entropy-coded stream even when it scales by 1/2..1/8,
        # so a damaged file still fails, but the decoded image stays within the budget
        scale = 1
        while scale < 8 and (width // scale) * (height // scale) > budget:
            scale *= 2
        if scale > 1:
            img.draft(img.mode, (width // scale, height // scale))
    elif width * height > budget:
        # PNG and WebP have no scaled decode; a huge lossless image is a bomb in waiting
        raise _refuse(
            f"A {img.format} image may have at most {budget / 1_000_000:g} megapixels; "
            f"this one has {width}×{height}. Send a smaller one, or a JPEG.",
            field,
            say_formats=False,
        )
    img.load()

"""Photo metadata: read the camera's position and time, then keep none of it in public copies."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from PIL import Image, ImageCms, ImageOps

log = logging.getLogger(__name__)

GPS_IFD = 0x8825
EXIF_IFD = 0x8769
DATETIME_ORIGINAL = 0x9003
OFFSET_TIME_ORIGINAL = 0x9011
DATETIME = 0x0132


@dataclass(frozen=True)
class PhotoLocation:
    lat: float
    long: float
    #: when the photo was taken, when the camera says so
    taken_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "lat": self.lat,
            "long": self.long,
            "taken_at": self.taken_at.isoformat() if self.taken_at else None,
        }


def _degrees(value: Any, ref: Any) -> float | None:
    try:
        d, m, s = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    degrees = d + m / 60 + s / 3600
    if str(ref).strip().upper() in ("S", "W"):
        degrees = -degrees
    return degrees


def _taken_at(exif: Image.Exif, gps: dict[int, Any]) -> datetime | None:
    # GPS date and time are in UTC, so they are the surest clock a camera writes
    try:
        if 29 in gps and 7 in gps:
            h, m, s = (float(part) for part in gps[7])
            day = datetime.strptime(str(gps[29]).strip(), "%Y:%m:%d")
            return day.replace(hour=int(h), minute=int(m), second=int(s), tzinfo=UTC)
    except (TypeError, ValueError, ZeroDivisionError):
        pass
    sub = exif.get_ifd(EXIF_IFD)
    stamp = sub.get(DATETIME_ORIGINAL) or exif.get(DATETIME)
    if not stamp:
        return None
    try:
        naive = datetime.strptime(str(stamp).strip(), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = sub.get(OFFSET_TIME_ORIGINAL)
    if offset:
        try:
            return datetime.fromisoformat(naive.isoformat() + str(offset).strip()).astimezone(UTC)
        except ValueError:
            pass
    # a camera clock with no zone is the local time where the photo was taken: the city's
    zone = ZoneInfo(current_app.config.get("CITY_TIMEZONE", "UTC"))
    return naive.replace(tzinfo=zone).astimezone(UTC)


def read_location(img: Image.Image) -> PhotoLocation | None:
    """Return the GPS position (and time) the camera wrote into the photo, if any."""
    try:
        exif = img.getexif()
        gps = exif.get_ifd(GPS_IFD)
    except Exception:  # a broken EXIF block must not refuse a good photo
        return None
    if not gps:
        return None
    lat = _degrees(gps.get(2), gps.get(1))
    long = _degrees(gps.get(4), gps.get(3))
    if lat is None or long is None or not (-90 <= lat <= 90 and -180 <= long <= 180):
        return None
    if lat == 0 and long == 0:  # a phone with no fix writes zeros
        return None
    return PhotoLocation(lat=round(lat, 7), long=round(long, 7), taken_at=_taken_at(exif, gps))


def _to_srgb(img: Image.Image) -> Image.Image:
    """Convert pixels described by an embedded colour profile to plain sRGB."""
    icc = img.info.get("icc_profile")
    if not icc:
        return img.convert("RGB")
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(
            img.convert("RGB"), source, ImageCms.createProfile("sRGB"), outputMode="RGB"
        )
        assert converted is not None
        return converted
    except (ImageCms.PyCMSError, OSError, ValueError):
        # a bogus profile: the pixels are most likely sRGB anyway
        return img.convert("RGB")


def public_pixels(img: Image.Image) -> Image.Image:
    """Return the photo upright, in sRGB, as a fresh image that carries pixels and nothing else.

    Pillow copies `info` (JPEG comments, PNG text chunks, XMP, the ICC profile) through
    convert() and resize(), and the JPEG encoder writes the comment back out; a new image
    that only receives the pixels has none of it.
    """
    upright = ImageOps.exif_transpose(img)
    if upright.mode in ("RGBA", "LA", "PA") or (
        upright.mode == "P" and "transparency" in upright.info
    ):
        # transparent areas become white, as on the page, rather than black
        rgba = upright.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, "white")
        flat.alpha_composite(rgba)
        flat.info = dict(upright.info)
        upright = flat
    rgb = _to_srgb(upright)
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    clean.info = {}
    return clean

"""POST requests: read a GeoReport submission and hand it to requests.service."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict

from app.core.errors import DomainError, NotFound
from app.extensions import db
from app.geo import gazetteer
from app.media import service as media
from app.open311.formats import w3c_datetime
from app.open311.params import present
from app.requests import service as requests_service
from app.requests.models import ServiceType
from app.requests.parsing import parse_attribute_fields, parse_coordinate
from app.requests.words import pick_language


def _coordinate(raw: str, name: str) -> float:
    value = parse_coordinate(raw, name)
    assert value is not None  # present() has already turned blanks into None
    return value


def _location(values: MultiDict[str, str]) -> tuple[float, float, str, str]:
    """Return lat, long, address and address_id from lat/long or the gazetteer."""
    lat, long = present(values.get("lat")), present(values.get("long"))
    address = present(values.get("address_string")) or ""
    address_id = present(values.get("address_id")) or ""
    if lat is not None or long is not None:
        if lat is None or long is None:
            raise DomainError("Send both lat and long, or neither.", field="lat")
        return _coordinate(lat, "lat"), _coordinate(long, "long"), address, address_id
    if not (address or address_id):
        raise DomainError(
            "Give the location: lat and long (WGS84), or address_string or address_id.",
            field="lat",
        )
    found = gazetteer.find_by_id(address_id) if address_id else gazetteer.find_by_text(address)
    if found is None:
        if not gazetteer.has_gazetteer():
            raise DomainError(
                "This city has no address gazetteer, so address_string and address_id cannot "
                "be located: send lat and long.",
                field="address_string",
            )
        given = f"address_id {address_id!r}" if address_id else f"address {address!r}"
        raise DomainError(
            f"The {given} is not in the city's address list: check it, or send lat and long.",
            field="address_id" if address_id else "address_string",
        )
    return found.lat, found.long, address or found.address, found.address_id


def _media_url(values: MultiDict[str, str]) -> str:
    # FixMyStreet sends media_url once per photo; we keep the first
    url = next((u.strip() for u in values.getlist("media_url") if u.strip()), "")
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 2000:
        raise DomainError(
            f"media_url must be an http(s) URL of at most 2000 characters, not {url[:80]!r}.",
            field="media_url",
        )
    return url


def submit(
    values: MultiDict[str, str],
    upload: FileStorage | list[FileStorage] | None = None,
    *,
    browser_language: str | None = None,
) -> dict[str, Any]:
    """Store a request POSTed in GeoReport terms; return the GeoReport answer.

    Beyond GeoReport: `notify` (email, sms, both or none) says how the reporter wants news,
    and `locale` (else the Accept-Language header, `browser_language`) its language.

    :raises NotFound: unknown service_code (404, as the spec says).
    :raises DomainError: anything else the client must fix (400).
    """
    code = present(values.get("service_code"))
    if code is None:
        raise DomainError(
            "service_code is required: services.xml lists the codes.", field="service_code"
        )
    lat, long, address, address_id = _location(values)
    description = present(values.get("description")) or ""
    if not description:
        # GeoReport makes description optional; ours needs one, and the service says what
        description = (
            db.session.scalar(
                select(ServiceType.name).where(ServiceType.code == code, ServiceType.active)
            )
            or ""
        )
        if not description:
            raise NotFound(f"There is no service {code!r}; services.xml lists them.")
    name = " ".join(
        part
        for part in (present(values.get("first_name")), present(values.get("last_name")))
        if part
    )
    uploads = upload if isinstance(upload, list) else [upload] if upload else []
    photos = media.validate_photos([u.stream for u in uploads], field="media")
    new = requests_service.NewRequest(
        service_code=code,
        description=description,
        lat=lat,
        long=long,
        address=address,
        address_id=address_id,
        name=name,
        email=present(values.get("email")) or "",
        phone=present(values.get("phone")) or "",
        device_id=present(values.get("device_id")) or "",
        account_id=present(values.get("account_id")) or "",
        media_url=_media_url(values),
        attributes=parse_attribute_fields(values),
        notify=present(values.get("notify")) or "",
        language=pick_language(present(values.get("locale")), browser_language),
    )
    try:
        result = requests_service.submit_request(new, channel="open311", photos=photos, alone=True)
    except DomainError as err:
        # an emergency type exists: the 400 tells the client to call instead
        if err.field == "service_code" and not isinstance(err, requests_service.EmergencyService):
            raise NotFound(
                f"There is no service {code!r}; services.xml lists them.", field="service_code"
            ) from None
        raise
    local_due = w3c_datetime(result.due_at)
    return {
        "service_request_id": str(result.id),
        "service_notice": f"{result.department_name} expects to deal with it by {local_due}.",
    }

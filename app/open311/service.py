"""GeoReport v2 over requests.service: API keys, and translation between their names and ours.

Nothing here decides anything about a request: intake, routing and validation belong to
requests.service. This module reads GeoReport parameters, calls it, and shapes the answers.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import BigInteger, Select, cast, func, or_, select, text
from sqlalchemy.orm import aliased
from werkzeug.datastructures import FileStorage, MultiDict

from app.core.clock import utcnow
from app.core.errors import DomainError, Forbidden, NotFound
from app.extensions import db
from app.geo import gazetteer
from app.media import service as media
from app.media.models import Photo
from app.open311.formats import w3c_datetime
from app.open311.models import ApiKey
from app.org.models import Department
from app.requests import service as requests_service
from app.requests.models import RequestEvent, ServiceRequest, ServiceType

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
#: the spec's defaults for GET requests: the most recent 90 days, at most 1000 requests
DEFAULT_WINDOW = timedelta(days=90)
MAX_REQUESTS = 1000
#: radius, in metres, of a lat/long search without one; and the largest accepted
DEFAULT_RADIUS_M = 500.0
MAX_RADIUS_M = 50_000.0
KEY_PREFIX_LENGTH = 8

CLOSURE_PHRASES = {
    "fixed": "Fixed.",
    "no_action_needed": "Closed: no action was needed.",
    "duplicate": "Closed as a duplicate of an earlier request.",
    "referred": "Referred to the agency responsible.",
    "could_not_locate": "Closed: the problem could not be located.",
}
#: our statuses and closure reasons in FixMyStreet's lower-case extended statuses
FMS_STATUS = {
    "new": "open",
    "acknowledged": "open",
    "assigned": "action_scheduled",
    "in_progress": "in_progress",
    "on_hold": "investigating",
}
FMS_CLOSED = {
    "fixed": "fixed",
    "no_action_needed": "no_further_action",
    "duplicate": "duplicate",
    "referred": "not_councils_responsibility",
    "could_not_locate": "closed",
}
NOTE_TYPES = {"created": "submitted", "closed": "closed", "reopened": "opened", "note": "note"}
EVENT_SUMMARIES = {
    "created": "Request received",
    "acknowledged": "Acknowledged by the department",
    "assigned": "A crew was assigned",
    "status_changed": "Status changed",
    "note": "Note",
    "reopened": "Reopened",
    "merged": "Merged into another request",
    "closed": "Closed",
}


def jurisdiction_id() -> str:
    return current_app.config["OPEN311_JURISDICTION_ID"]


def check_jurisdiction(value: str | None) -> None:
    """Accept no jurisdiction_id or ours.

    :raises NotFound: another jurisdiction was named.
    """
    if value and value.strip() != jurisdiction_id():
        raise NotFound(
            f"Unknown jurisdiction_id {value!r}: this endpoint serves {jurisdiction_id()!r}."
        )


# ---------------------------------------------------------------------------------------------
# API keys


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(client_name: str, contact: str = "") -> tuple[ApiKey, str]:
    """Issue a key for a client application; return the row and the key, shown only now.

    :raises DomainError: no application name.
    """
    client_name = (client_name or "").strip()
    if not client_name:
        raise DomainError("Name the client application the key is for.", field="name")
    if len(client_name) > 200:
        raise DomainError("The application name is longer than 200 characters.", field="name")
    contact = (contact or "").strip()
    if len(contact) > 254:
        raise DomainError("The contact is longer than 254 characters.", field="contact")
    key = secrets.token_urlsafe(30)
    row = ApiKey(
        client_name=client_name,
        contact=contact,
        key_prefix=key[:KEY_PREFIX_LENGTH],
        key_hash=_digest(key),
    )
    db.session.add(row)
    db.session.flush()
    return row, key


def list_keys() -> list[ApiKey]:
    """Return every key, active ones first, newest first."""
    return list(
        db.session.scalars(
            select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.id.desc())
        )
    )


def revoke_key(*, key_id: int | None = None, prefix: str | None = None) -> ApiKey:
    """Revoke a key by id or by its displayed prefix; revoking twice is harmless.

    :raises NotFound: no key matches.
    :raises DomainError: the prefix matches several keys.
    """
    stmt = select(ApiKey)
    if key_id is not None:
        stmt = stmt.where(ApiKey.id == key_id)
    elif prefix and prefix.strip():
        stmt = stmt.where(ApiKey.key_prefix == prefix.strip())
    else:
        raise DomainError("Say which key to revoke (its prefix).", field="prefix")
    rows = list(db.session.scalars(stmt))
    if not rows:
        raise NotFound("No API key matches; `flask open311 keys list` shows the prefixes.")
    if len(rows) > 1:
        raise DomainError("Several keys share this prefix; revoke them from the admin page.")
    row = rows[0]
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        db.session.flush()
    _key_cache().clear()
    return row


# One round trip: find the key and note its use, at most once a minute so that a busy
# client does not turn every POST into a write on the same row.
_USE_KEY = text(
    """
    WITH k AS (
        SELECT id FROM open311_api_keys WHERE key_hash = :key_hash AND revoked_at IS NULL
    ), touch AS (
        UPDATE open311_api_keys SET last_used_at = now()
        FROM k
        WHERE open311_api_keys.id = k.id
          AND (open311_api_keys.last_used_at IS NULL
               OR open311_api_keys.last_used_at < now() - interval '1 minute')
    )
    SELECT id FROM k
    """
)


def _key_cache() -> dict[str, tuple[int, float]]:
    return current_app.extensions.setdefault("open311_keys", {})


def authenticate_key(key: str | None) -> int:
    """Return the id of the active API key given, noting its use.

    A valid key is remembered for OPEN311_KEY_CACHE_SECONDS, sparing intake a round trip;
    a revocation therefore reaches other processes within that time, and this one at once.

    :raises Forbidden: no key, or one that is unknown or revoked.
    """
    key = (key or "").strip()
    if not key:
        raise Forbidden(
            "An api_key is required to submit requests; the city issues one per application."
        )
    digest = _digest(key)
    cache = _key_cache()
    now = time.monotonic()
    hit = cache.get(digest)
    if hit is not None and hit[1] > now:
        return hit[0]
    key_id = db.session.execute(_USE_KEY, {"key_hash": digest}).scalar()
    if key_id is None:
        cache.pop(digest, None)
        raise Forbidden("The api_key is not valid or has been revoked.")
    ttl = current_app.config["OPEN311_KEY_CACHE_SECONDS"]
    if ttl > 0:
        cache[digest] = (key_id, now + ttl)
    return key_id


# ---------------------------------------------------------------------------------------------
# parameters


def present(value: str | None) -> str | None:
    """Return the parameter stripped, or None when it is absent or empty (the spec: the same)."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def listed(values: list[str]) -> list[str]:
    """Return the items of a parameter given comma-delimited, repeated, or both."""
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


_DATETIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}(?::\d{2})?)(?:[.,](\d+))?"
    r"\s*(Z|z|[+-]\d{2}:?\d{2}|\s\d{2}:?\d{2})?$"
)


def parse_datetime(name: str, value: str) -> datetime:
    """Read a W3C datetime as clients really send it.

    Accepts a space for the `T` (Python's str(datetime)), fractional seconds, `Z` or an offset,
    and an offset whose `+` an unencoded query string turned into a space.

    :raises DomainError: not a datetime, or one without a timezone.
    """
    match = _DATETIME.match(value.strip()) if len(value) <= 64 else None
    if not match:
        raise DomainError(
            f"{name} must be a W3C datetime such as 2026-11-05T08:15:30-05:00, not {value!r}.",
            field=name,
        )
    day, clock, fraction, offset = match.groups()
    if offset is None:
        raise DomainError(
            f"{name} has no timezone: add Z or an offset such as -05:00 ({value!r}).", field=name
        )
    offset = offset.strip()
    if offset in ("Z", "z"):
        offset = "+00:00"
    elif offset[0] not in "+-":
        offset = "+" + offset
    if ":" not in offset:
        offset = f"{offset[:3]}:{offset[3:]}"
    micro = f".{(fraction or '0')[:6].ljust(6, '0')}"
    try:
        return datetime.fromisoformat(f"{day}T{clock}{micro}{offset}").astimezone(UTC)
    except ValueError:
        raise DomainError(f"{name} is not a real date and time: {value!r}.", field=name) from None


def parse_float(name: str, value: str) -> float:
    """Read a decimal number.

    :raises DomainError: not a finite number.
    """
    try:
        number = float(value)
    except ValueError:
        raise DomainError(f"{name} must be a number, not {value!r}.", field=name) from None
    if not math.isfinite(number):
        raise DomainError(f"{name} must be a finite number.", field=name)
    return number


def parse_int(name: str, value: str, *, low: int, high: int) -> int:
    """Read a whole number within [low, high].

    :raises DomainError: not a whole number in range.
    """
    try:
        number = int(value)
    except ValueError:
        raise DomainError(f"{name} must be a whole number, not {value!r}.", field=name) from None
    if not low <= number <= high:
        raise DomainError(f"{name} must be between {low} and {high}.", field=name)
    return number


_ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")


def parse_attributes(values: MultiDict[str, str]) -> dict[str, Any]:
    """Collect attribute[CODE] and attribute[CODE][] answers (lists for repeated keys)."""
    answers: dict[str, Any] = {}
    for key in values:
        match = _ATTRIBUTE_KEY.match(key)
        if not match:
            continue
        code, is_list = match.group(1), bool(match.group(2))
        given = [v for v in values.getlist(key) if v.strip()]
        if is_list or len(given) > 1:
            merged = answers.get(code, [])
            merged = merged if isinstance(merged, list) else [merged]
            answers[code] = merged + given
        elif given:
            answers[code] = given[0]
        else:
            answers.setdefault(code, "")  # an optional answer the user skipped
    return answers


# ---------------------------------------------------------------------------------------------
# catalogue


def service_notice(sla_value: int, sla_unit: str) -> str:
    """Say how soon a request of this type is expected to be dealt with."""
    if sla_unit == "business_days":
        unit = "business day" if sla_value == 1 else "business days"
    else:
        unit = "hour" if sla_value == 1 else "hours"
    return f"Expected within {sla_value} {unit}."


def _questions(st: ServiceType) -> list[dict[str, Any]]:
    return sorted(st.attributes or [], key=lambda q: (q.get("order") or 0, q.get("code", "")))


def services() -> list[dict[str, Any]]:
    """Return the GeoReport service list."""
    return [
        {
            "service_code": st.code,
            "service_name": st.name,
            "description": st.description or None,
            "metadata": bool(st.attributes),
            "type": "realtime",
            "keywords": st.keywords or None,
            "group": st.group or None,
        }
        for st in requests_service.list_service_types()
    ]


def service_definition(code: str) -> dict[str, Any]:
    """Return the GeoReport definition (the questions) of a service.

    :raises NotFound: no active service has this code.
    """
    st = db.session.scalar(
        select(ServiceType).where(ServiceType.code == code, ServiceType.active.is_(True))
    )
    if st is None:
        raise NotFound(f"There is no service {code!r}; services.xml lists them.")
    attributes = []
    for index, q in enumerate(_questions(st), start=1):
        item: dict[str, Any] = {
            "variable": bool(q.get("variable", True)),
            "code": str(q["code"]),
            "datatype": q.get("datatype", "string"),
            "required": bool(q.get("required", False)),
            "datatype_description": q.get("datatype_description") or None,
            "order": int(q.get("order") or index),
            "description": q.get("description") or q.get("label") or str(q["code"]),
        }
        if item["datatype"] in ("singlevaluelist", "multivaluelist"):
            item["values"] = [
                {"key": str(v["key"]), "name": str(v.get("name", v["key"]))}
                for v in q.get("values", [])
            ]
        attributes.append(item)
    return {"service_code": st.code, "attributes": attributes}


# ---------------------------------------------------------------------------------------------
# intake


def _location(values: MultiDict[str, str]) -> tuple[float, float, str, str]:
    """Return lat, long, address and address_id from lat/long or the gazetteer."""
    lat, long = present(values.get("lat")), present(values.get("long"))
    address = present(values.get("address_string")) or ""
    address_id = present(values.get("address_id")) or ""
    if lat is not None or long is not None:
        if lat is None or long is None:
            raise DomainError("Send both lat and long, or neither.", field="lat")
        return parse_float("lat", lat), parse_float("long", long), address, address_id
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


def submit(values: MultiDict[str, str], upload: FileStorage | None = None) -> dict[str, Any]:
    """Store a request POSTed in GeoReport terms; return the GeoReport answer.

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
    photo = media.validate_photo(upload.stream, field="media") if upload else None
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
        attributes=parse_attributes(values),
    )
    try:
        result = requests_service.submit_request(new, channel="open311", photo=photo)
    except DomainError as err:
        if err.field == "service_code":
            raise NotFound(
                f"There is no service {code!r}; services.xml lists them.", field="service_code"
            ) from None
        raise
    local_due = w3c_datetime(result.due_at)
    return {
        "service_request_id": str(result.id),
        "service_notice": f"{result.department_name} expects to deal with it by {local_due}.",
    }


# ---------------------------------------------------------------------------------------------
# reading requests


@dataclass
class RequestQuery:
    """GET requests parameters, read and checked."""

    ids: list[int] = field(default_factory=list)
    service_codes: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    page: int = 1
    page_size: int = MAX_REQUESTS
    near: tuple[float, float, float] | None = None
    extensions: bool = False


def read_query(args: MultiDict[str, str]) -> RequestQuery:
    """Read GET requests parameters.

    :raises DomainError: a parameter that cannot be read (400, naming it).
    """
    q = RequestQuery()

    def one(name: str) -> str | None:
        return present(args.get(name))

    ids = listed(args.getlist("service_request_id"))
    for raw in ids:
        if not raw.isdigit() or len(raw) > 18:
            raise DomainError(
                f"service_request_id must be request numbers, not {raw!r}.",
                field="service_request_id",
            )
    q.ids = [int(raw) for raw in ids]
    q.service_codes = listed(args.getlist("service_code"))
    q.statuses = [s.lower() for s in listed(args.getlist("status"))]
    bad = [s for s in q.statuses if s not in ("open", "closed")]
    if bad:
        raise DomainError(f"status must be open or closed, not {bad[0]!r}.", field="status")
    for name in ("start_date", "end_date", "updated_after", "updated_before"):
        value = one(name)
        if value is not None:
            setattr(
                q,
                {"start_date": "start", "end_date": "end"}.get(name, name),
                parse_datetime(name, value),
            )
    if q.start and q.end:
        if q.end < q.start:
            raise DomainError("end_date is before start_date.", field="end_date")
        if q.end - q.start > DEFAULT_WINDOW:
            raise DomainError(
                "start_date and end_date may span at most 90 days; page through longer "
                "periods 90 days at a time.",
                field="end_date",
            )
    elif q.start:
        q.end = q.start + DEFAULT_WINDOW
    elif q.end:
        q.start = q.end - DEFAULT_WINDOW
    if q.updated_after and q.updated_before and q.updated_before < q.updated_after:
        raise DomainError("updated_before is before updated_after.", field="updated_before")
    if one("page") is not None:
        q.page = parse_int("page", one("page") or "", low=1, high=1_000_000)
    if one("page_size") is not None:
        q.page_size = parse_int("page_size", one("page_size") or "", low=1, high=MAX_REQUESTS)
    lat, long, radius = one("lat"), one("long"), one("radius")
    if lat is not None or long is not None:
        if lat is None or long is None:
            raise DomainError("Send both lat and long to search around a point.", field="lat")
        point_lat, point_long = parse_float("lat", lat), parse_float("long", long)
        requests_service.check_location(point_lat, point_long)
        metres = parse_float("radius", radius) if radius is not None else DEFAULT_RADIUS_M
        if not 0 < metres <= MAX_RADIUS_M:
            raise DomainError(
                f"radius is in metres and must be above 0 and at most {MAX_RADIUS_M:g}.",
                field="radius",
            )
        q.near = (point_lat, point_long, metres)
    elif radius is not None:
        raise DomainError("radius needs lat and long.", field="radius")
    q.extensions = (one("extensions") or "").lower() in ("true", "1", "yes")
    return q


def _request_columns() -> Select[Any]:
    sr = ServiceRequest
    first_photo = select(func.min(Photo.id)).where(Photo.request_id == sr.id).scalar_subquery()
    closure_photo = (
        select(RequestEvent.data["photo_id"].astext)
        .where(
            RequestEvent.request_id == sr.id,
            RequestEvent.kind == "closed",
            RequestEvent.public.is_(True),
        )
        .order_by(RequestEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    latest_note = (
        select(RequestEvent.note)
        .where(
            RequestEvent.request_id == sr.id,
            RequestEvent.public.is_(True),
            RequestEvent.note != "",
        )
        .order_by(RequestEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    # reporter columns are deliberately absent: nothing here can leak them
    return (
        select(
            sr.id,
            sr.status,
            sr.closure_reason,
            sr.closure_note,
            ServiceType.code.label("service_code"),
            ServiceType.name.label("service_name"),
            ServiceType.sla_value,
            ServiceType.sla_unit,
            sr.description,
            Department.name.label("agency"),
            sr.requested_at,
            sr.updated_at,
            sr.closed_at,
            sr.due_at,
            sr.address,
            sr.address_id,
            func.ST_Y(sr.location).label("lat"),
            func.ST_X(sr.location).label("long"),
            sr.media_url,
            func.coalesce(first_photo, cast(closure_photo, BigInteger)).label("photo_id"),
            latest_note.label("latest_note"),
            sr.channel,
        )
        .join(ServiceType, ServiceType.id == sr.service_type_id)
        .join(Department, Department.id == sr.department_id)
    )


def photo_url(photo_id: int) -> str:
    """Return the public URL of a photo's metadata-free display size."""
    return f"{current_app.config['PUBLIC_BASE_URL']}/photos/{photo_id}/display.jpg"


def _status_notes(row: Any) -> str | None:
    if row.status == "closed":
        return row.closure_note or CLOSURE_PHRASES.get(row.closure_reason or "", "Closed.")
    return row.latest_note or None


def _request_dict(row: Any) -> dict[str, Any]:
    media_url = photo_url(row.photo_id) if row.photo_id else (row.media_url or None)
    return {
        "service_request_id": str(row.id),
        "status": "closed" if row.status == "closed" else "open",
        "status_notes": _status_notes(row),
        "service_name": row.service_name,
        "service_code": row.service_code,
        "description": row.description,
        "agency_responsible": row.agency,
        "service_notice": service_notice(row.sla_value, row.sla_unit),
        "requested_datetime": w3c_datetime(row.requested_at),
        "updated_datetime": w3c_datetime(row.closed_at or row.updated_at),
        "expected_datetime": w3c_datetime(row.due_at),
        "address": row.address or None,
        "address_id": row.address_id or None,
        "zipcode": None,
        "lat": round(row.lat, 7),
        "long": round(row.long, 7),
        "media_url": media_url,
    }


def _add_extensions(rows: list[Any], items: list[dict[str, Any]]) -> None:
    """Add Chicago-style `extended_attributes` and `notes` (the public history)."""
    ids = [row.id for row in rows]
    events: dict[int, list[RequestEvent]] = {i: [] for i in ids}
    for event in db.session.scalars(
        select(RequestEvent)
        .where(RequestEvent.request_id.in_(ids), RequestEvent.public.is_(True))
        .order_by(RequestEvent.request_id, RequestEvent.id)
    ):
        events[event.request_id].append(event)
    photos: dict[int, list[int]] = {i: [] for i in ids}
    for photo_id, request_id in db.session.execute(
        select(Photo.id, Photo.request_id).where(Photo.request_id.in_(ids)).order_by(Photo.id)
    ):
        photos[request_id].append(photo_id)
    for row, item in zip(rows, items, strict=True):
        history = events[row.id]
        photo_ids = photos[row.id] + [
            e.data["photo_id"] for e in history if e.kind == "closed" and e.data.get("photo_id")
        ]
        item["extended_attributes"] = {
            "detailed_status": row.status,
            "closure_reason": row.closure_reason,
            "channel": row.channel,
            "media_urls": [photo_url(p) for p in photo_ids],
        }
        item["notes"] = [
            {
                "datetime": w3c_datetime(e.at),
                "type": NOTE_TYPES.get(e.kind, "activity"),
                "summary": EVENT_SUMMARIES.get(e.kind, e.kind),
                "description": e.note or None,
                "status": e.to_status,
            }
            for e in history
        ]


def find_requests(q: RequestQuery) -> list[dict[str, Any]]:
    """Return the requests matching a GET requests query, most recent first."""
    sr = ServiceRequest
    stmt = _request_columns()
    if q.ids:
        # the spec: a list of ids overrides every other parameter
        stmt = stmt.where(sr.id.in_(q.ids))
    else:
        if q.service_codes:
            stmt = stmt.where(ServiceType.code.in_(q.service_codes))
        if q.statuses and set(q.statuses) != {"open", "closed"}:
            stmt = stmt.where(
                sr.status == "closed" if q.statuses[0] == "closed" else sr.status != "closed"
            )
        if not (q.start or q.end or q.updated_after or q.updated_before):
            stmt = stmt.where(sr.requested_at >= utcnow() - DEFAULT_WINDOW)
        if q.start:
            stmt = stmt.where(sr.requested_at >= q.start, sr.requested_at <= q.end)
        if q.updated_after:
            stmt = stmt.where(sr.updated_at >= q.updated_after)
        if q.updated_before:
            stmt = stmt.where(sr.updated_at <= q.updated_before)
        if q.near:
            lat, long, metres = q.near
            point = func.ST_SetSRID(func.ST_MakePoint(long, lat), 4326)
            stmt = stmt.where(
                func.ST_DWithin(func.geography(sr.location), func.geography(point), metres)
            )
    stmt = (
        stmt.order_by(sr.requested_at.desc(), sr.id.desc())
        .limit(q.page_size)
        .offset((q.page - 1) * q.page_size)
    )
    rows = list(db.session.execute(stmt))
    items = [_request_dict(row) for row in rows]
    if q.extensions and rows:
        _add_extensions(rows, items)
    return items


def get_request(request_id: str, *, extensions: bool = False) -> list[dict[str, Any]]:
    """Return one request as a list of one.

    :raises NotFound: there is no such request.
    """
    if not request_id.isdigit() or len(request_id) > 18:
        raise NotFound(f"There is no service request {request_id!r}.")
    rows = list(db.session.execute(_request_columns().where(ServiceRequest.id == int(request_id))))
    if not rows:
        raise NotFound(f"There is no service request {request_id}.")
    items = [_request_dict(rows[0])]
    if extensions:
        _add_extensions(rows, items)
    return items


def resolve_token(token: str) -> list[dict[str, Any]]:
    """Return the request a token stands for.

    Every service is realtime, so ids come back at once and a token is just the id: clients
    that poll tokens anyway get their answer on the first try.

    :raises NotFound: no request has this token.
    """
    if token.isdigit() and len(token) <= 18:
        found = db.session.scalar(select(ServiceRequest.id).where(ServiceRequest.id == int(token)))
        if found is not None:
            return [{"service_request_id": str(found), "token": token}]
    raise NotFound(f"There is no token {token!r}.")


# ---------------------------------------------------------------------------------------------
# FixMyStreet service request updates


def request_updates(start: datetime | None, end: datetime | None) -> list[dict[str, Any]]:
    """Return the public status changes and notes between two times, oldest first."""
    if start is None and end is None:
        end = utcnow()
        start = end - DEFAULT_WINDOW
    elif start is None:
        start = end - DEFAULT_WINDOW  # type: ignore[operator]
    elif end is None:
        end = start + DEFAULT_WINDOW
    e = RequestEvent
    before = aliased(RequestEvent)
    # the request's status when the event happened: a note carries none of its own
    status_then = (
        select(before.to_status)
        .where(
            before.request_id == e.request_id,
            before.id <= e.id,
            before.to_status.is_not(None),
        )
        .order_by(before.id.desc())
        .limit(1)
        .correlate(e)
        .scalar_subquery()
    )
    latest = (
        select(e, status_then.label("status_then"))
        .where(
            e.at >= start,
            e.at <= end,
            e.public.is_(True),
            e.kind.not_in(("created", "routed")),
            or_(e.kind != "note", e.note != ""),
        )
        .order_by(e.id.desc())
        .limit(MAX_REQUESTS)
    )
    rows = list(db.session.execute(latest))
    rows.reverse()
    updates = []
    for event, status_then in rows:
        if event.kind == "closed":
            status = FMS_CLOSED.get(event.data.get("reason", ""), "closed")
        elif event.kind == "merged":
            status = "duplicate"
        elif event.kind == "reopened":
            status = "reopen"
        elif status_then == "closed":
            status = "closed"
        else:
            status = FMS_STATUS.get(status_then or "new", "open")
        photo_id = event.data.get("photo_id")
        updates.append(
            {
                "update_id": str(event.id),
                "service_request_id": str(event.request_id),
                "status": status,
                "updated_datetime": w3c_datetime(event.at),
                "description": event.note or EVENT_SUMMARIES.get(event.kind, event.kind) + ".",
                "media_url": photo_url(photo_id) if photo_id else "",
                "external_status_code": event.to_status or None,
            }
        )
    return updates

"""GET requests, one request and tokens: read the query, select, shape GeoReport answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import BigInteger, Select, cast, func, select
from werkzeug.datastructures import MultiDict

from app.core.clock import utcnow
from app.core.errors import DomainError, NotFound
from app.extensions import db
from app.geo.privacy import public_point
from app.media.models import Photo
from app.open311.catalogue import service_notice
from app.open311.formats import w3c_datetime
from app.open311.params import (
    DEFAULT_WINDOW,
    MAX_REQUESTS,
    listed,
    parse_datetime,
    parse_float,
    parse_int,
    present,
)
from app.org.models import Department
from app.requests import service as requests_service
from app.requests.models import RequestEvent, ServiceRequest, ServiceType
from app.requests.parsing import parse_coordinate

#: radius, in metres, of a lat/long search without one; and the largest accepted
DEFAULT_RADIUS_M = 500.0
MAX_RADIUS_M = 50_000.0

CLOSURE_PHRASES = {
    "fixed": "Fixed.",
    "no_action_needed": "Closed: no action was needed.",
    "duplicate": "Closed as a duplicate of an earlier request.",
    "referred": "Referred to the agency responsible.",
    "could_not_locate": "Closed: the problem could not be located.",
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
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
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
        point_lat, point_long = parse_coordinate(lat, "lat"), parse_coordinate(long, "long")
        if point_lat is None or point_long is None:
            raise DomainError("Send both lat and long to search around a point.", field="lat")
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


def _request_columns() -> Select:
    sr = ServiceRequest
    first_photo = (
        select(func.min(Photo.id))
        .where(Photo.request_id == sr.id, Photo.kind == "report")
        .scalar_subquery()
    )
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
            ServiceType.sensitive,
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
    lat, long = public_point(row.lat, row.long, sensitive=row.sensitive)
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
        # the time updated_after and updated_before filter on: a closed request's later
        # changes (a note, a merge) move it past its close time
        "updated_datetime": w3c_datetime(row.updated_at),
        "expected_datetime": w3c_datetime(row.due_at),
        "address": None if row.sensitive else row.address or None,
        "address_id": None if row.sensitive else row.address_id or None,
        "zipcode": None,
        # imported history may have no known location
        "lat": round(lat, 7) if lat is not None else None,
        "long": round(long, 7) if long is not None else None,
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
        select(Photo.id, Photo.request_id)
        # notes' photos are not the reporter's; an internal note's are never public
        .where(Photo.request_id.in_(ids), Photo.kind == "report")
        .order_by(Photo.id)
    ):
        if request_id is not None:  # the IN never matches NULL; the check is for mypy
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
    if not (request_id.isascii() and request_id.isdigit()) or len(request_id) > 18:
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
    if token.isascii() and token.isdigit() and len(token) <= 18:
        found = db.session.scalar(select(ServiceRequest.id).where(ServiceRequest.id == int(token)))
        if found is not None:
            return [{"service_request_id": str(found), "token": token}]
    raise NotFound(f"There is no token {token!r}.")

"""GET requests, one request and tokens: read the query, then let request_sql answer it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.core.clock import utcnow
from app.core.errors import DomainError, NotFound
from app.extensions import db
from app.open311.params import (
    DEFAULT_WINDOW,
    MAX_REQUESTS,
    listed,
    parse_datetime,
    parse_float,
    parse_int,
    present,
)
from app.open311.request_sql import requests_json
from app.requests import service as requests_service
from app.requests.models import ServiceRequest
from app.requests.parsing import parse_coordinate

#: radius, in metres, of a lat/long search without one; and the largest accepted
DEFAULT_RADIUS_M = 500.0
MAX_RADIUS_M = 50_000.0


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


def find_requests(q: RequestQuery) -> str:
    """Return the JSON text of the requests matching a GET requests query, most recent first."""
    where: list[str] = []
    params: dict[str, Any] = {}
    if q.ids:
        # the spec: a list of ids overrides every other parameter
        where.append("sr.id = ANY(:ids)")
        params["ids"] = q.ids
    else:
        if q.service_codes:
            where.append("st.code = ANY(:codes)")
            params["codes"] = q.service_codes
        if q.statuses and set(q.statuses) != {"open", "closed"}:
            where.append(
                "sr.status = 'closed'" if q.statuses[0] == "closed" else "sr.status <> 'closed'"
            )
        if not (q.start or q.end or q.updated_after or q.updated_before):
            where.append("sr.requested_at >= :window_start")
            params["window_start"] = utcnow() - DEFAULT_WINDOW
        if q.start:
            where.append("sr.requested_at >= :start AND sr.requested_at <= :end")
            params.update(start=q.start, end=q.end)
        if q.updated_after:
            where.append("sr.updated_at >= :updated_after")
            params["updated_after"] = q.updated_after
        if q.updated_before:
            where.append("sr.updated_at <= :updated_before")
            params["updated_before"] = q.updated_before
        if q.near:
            where.append(
                "ST_DWithin(geography(sr.location),"
                " geography(ST_SetSRID(ST_MakePoint(:near_long, :near_lat), 4326)), :near_metres)"
            )
            params.update(near_lat=q.near[0], near_long=q.near[1], near_metres=q.near[2])
    return requests_json(
        where,
        params,
        limit=q.page_size,
        offset=(q.page - 1) * q.page_size,
        extensions=q.extensions,
        by_service_code=bool(q.service_codes) and not q.ids,
    )


def get_request(request_id: str, *, extensions: bool = False) -> str:
    """Return the JSON text of one request as a list of one.

    :raises NotFound: there is no such request.
    """
    if not (request_id.isascii() and request_id.isdigit()) or len(request_id) > 18:
        raise NotFound(f"There is no service request {request_id!r}.")
    found = requests_json(["sr.id = :id"], {"id": int(request_id)}, limit=1, extensions=extensions)
    if found == "[]":
        raise NotFound(f"There is no service request {request_id}.")
    return found


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

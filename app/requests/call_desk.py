"""The call desk: where a call would be routed, who is calling, and following on their behalf.

An agent on the phone sees the department, district and due date a request would get before
logging it (the same SQL and SLA calendar intake stores them with), the caller's earlier
requests and the open ones of that type near the place they name, and may add the caller
as a follower of one instead of logging a duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, text
from sqlalchemy.orm import lazyload

from app.core.clock import to_city_time, utcnow
from app.core.errors import Conflict
from app.extensions import db
from app.geo.routing import routing_kind
from app.requests import duplicates, queries
from app.requests.catalogue import catalogue_entry, compute_due_at
from app.requests.intake import check_location, outside_city
from app.requests.intake_sql import ROUTE_CTES
from app.requests.lifecycle import record_event
from app.requests.models import ServiceRequest
from app.requests.permissions import check_may_handle
from app.requests.words import pick_language

#: earlier requests of one caller the lookup lists, newest first
MAX_EARLIER = 10
#: open requests near the caller's place the lookup lists, nearest first
MAX_NEARBY = 10

_PREVIEW = text(
    f"""
    WITH {ROUTE_CTES}
    SELECT district.code, district.name, rule.department_code, rule.department_name,
           rule.crew_id
    FROM district LEFT JOIN rule ON true
    """
)


@dataclass(frozen=True)
class RoutePreview:
    """Where a request of this type at this point would go, and when it would be due."""

    service_code: str
    service_name: str
    department_code: str
    department_name: str
    district_code: str
    district_name: str
    #: in the city's timezone
    due_at: datetime
    crew_id: int | None


def preview_route(
    service_code: str, lat: float, long: float, *, at: datetime | None = None
) -> RoutePreview:
    """Return the routing intake would give this request now, storing nothing.

    :raises DomainError: no active type has this code, or coordinates off the globe (400).
    :raises OutsideJurisdiction: the point is in none of the city's districts (400).
    """
    check_location(lat, long)
    # fresh: a cached entry may name a type since edited; intake notices that and looks
    # again, a preview could not tell (it is one short query, a few times a call)
    st = catalogue_entry(service_code, fresh=True)
    row = db.session.execute(
        _PREVIEW,
        {"lat": lat, "long": long, "district_kind": routing_kind(), "service_type_id": st.id},
    ).one_or_none()
    if row is None:
        raise outside_city(lat, long)
    district_code, district_name, rule_department_code, rule_department_name, crew_id = row
    return RoutePreview(
        service_code=st.code,
        service_name=st.name,
        department_code=rule_department_code or st.department_code,
        department_name=rule_department_name or st.department_name,
        district_code=district_code,
        district_name=district_name,
        due_at=to_city_time(compute_due_at(at or utcnow(), st)),
        crew_id=crew_id,
    )


@dataclass(frozen=True)
class Lookup:
    """What the call form shows about a caller and the place they name."""

    #: the caller's requests (by phone digits or email), newest first
    earlier: list[ServiceRequest]
    #: open requests of the chosen type near the place, each with its distance in metres
    nearby: list[tuple[ServiceRequest, float]]


def caller_lookup(
    *,
    phone: str = "",
    email: str = "",
    service_code: str = "",
    lat: float | None = None,
    long: float | None = None,
    department_id: int | None = None,
) -> Lookup:
    """Find the caller's earlier requests and the open requests near their place.

    A phone number matches as staff search matches it (digits only, the last 10 compared,
    7 at least); an email matches whatever its case. `department_id` limits the earlier
    requests to a department (a dispatcher's); the nearby ones carry no personal data.
    """
    conditions = []
    if email.strip() and "@" in email:
        conditions.append(queries.email_condition(email))
    phone_match = queries.phone_condition(phone)
    if phone_match is not None:
        conditions.append(phone_match)
    earlier: list[ServiceRequest] = []
    if conditions:
        stmt = (
            select(ServiceRequest)
            .options(lazyload(ServiceRequest.events))
            .where(or_(*conditions))
            .order_by(ServiceRequest.requested_at.desc(), ServiceRequest.id.desc())
            .limit(MAX_EARLIER)
        )
        if department_id is not None:
            stmt = stmt.where(ServiceRequest.department_id == department_id)
        earlier = list(db.session.scalars(stmt))
    nearby: list[tuple[ServiceRequest, float]] = []
    if service_code and lat is not None and long is not None:
        nearby = duplicates.find_near(service_code, lat, long, limit=MAX_NEARBY)
    return Lookup(earlier=earlier, nearby=nearby)


def follow_for_caller(
    request_id: int, email: str, *, actor_id: int, language: str = ""
) -> tuple[ServiceRequest, bool]:
    """Subscribe a caller's email to a request they asked about on the phone.

    No confirmation link: the caller asked the agent in person. The history gets an
    internal note saying who added whom, so the subscription is accounted for. Returns the
    request and whether the address is new to it (False: it already gets its news).

    :raises NotFound: no such request (404).
    :raises Forbidden: the user may not act on it (403).
    :raises DomainError: not an email address (400).
    :raises Conflict: the request is closed: there is no news left to follow (409).
    """
    from app.notifications import follow

    sr = queries.get_request(request_id)
    check_may_handle(sr, "follow")
    address = follow.checked_address(email)
    if not sr.is_open:
        raise Conflict(
            f"Request {sr.id} is closed: log a new request, or reopen it if it is not fixed."
        )
    added = follow.confirm(follow.Who(sr.id, address, pick_language(language, sr.language)))
    if added:
        record_event(
            sr,
            "note",
            actor_id=actor_id,
            public=False,
            note=f"{address} added as a follower on the caller's behalf, at their request "
            "on the call (no confirmation email).",
            data={"follower": address, "on_behalf": True},
        )
        db.session.flush()
    return sr, added

"""Domain verbs for service requests: intake, routing, and every status transition.

Verbs validate, write, flush, record an event and send signals. They never commit: the
caller (a view, a job, a command) owns the transaction.
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app
from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.orm import lazyload

from app.core import app_object
from app.core.clock import add_business_days, city_tz, utcnow
from app.core.errors import Conflict, DomainError, NotFound, OutsideJurisdiction
from app.extensions import db
from app.geo.routing import covering_district_sql, routing_kind
from app.media import service as media
from app.org.models import Department
from app.requests import signals
from app.requests.models import (
    CHANNELS,
    CLOSURE_REASONS,
    SLA_UNITS,
    STATUSES,
    RequestEvent,
    ServiceRequest,
    ServiceType,
)

MAX_DESCRIPTION = 4000
ATTRIBUTE_DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

#: every status change allowed, from → to. Closing and reopening have verbs of their own.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"acknowledged", "assigned", "on_hold"}),
    "acknowledged": frozenset({"assigned", "in_progress", "on_hold"}),
    "assigned": frozenset({"acknowledged", "in_progress", "on_hold"}),
    "in_progress": frozenset({"acknowledged", "assigned", "on_hold"}),
    "on_hold": frozenset({"acknowledged", "assigned", "in_progress"}),
    "closed": frozenset(),
}


@dataclass
class NewRequest:
    """What a resident, an agent or an API client tells us about a problem."""

    service_code: str
    description: str
    lat: float
    long: float
    address: str = ""
    name: str = ""
    email: str = ""
    phone: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    #: the city gazetteer's address id, when the location was looked up from it
    address_id: str = ""
    #: private ids of the reporter's device and account in an Open311 client app
    device_id: str = ""
    account_id: str = ""
    #: a public URL of a photo hosted by the client (Open311 media_url)
    media_url: str = ""


@dataclass(frozen=True)
class SubmittedRequest:
    """The stored request as routing left it (no ORM object: intake is a hot path)."""

    id: int
    status: str
    service_code: str
    service_name: str
    department_code: str
    department_name: str
    district_code: str
    district_name: str
    requested_at: datetime
    due_at: datetime
    photo_id: int | None


# ---------------------------------------------------------------------------------------------
# catalogue


def list_service_types(*, include_inactive: bool = False) -> list[ServiceType]:
    """Return the service catalogue ordered by group and name."""
    stmt = select(ServiceType).order_by(ServiceType.group, ServiceType.name)
    if not include_inactive:
        stmt = stmt.where(ServiceType.active.is_(True))
    return list(db.session.scalars(stmt))


@dataclass(frozen=True)
class CatalogueEntry:
    """What intake needs of a service type, cached per process for CATALOGUE_CACHE_SECONDS."""

    id: int
    code: str
    name: str
    department_id: int
    department_code: str
    department_name: str
    sla_value: int
    sla_unit: str
    attributes: list[dict[str, Any]]


def catalogue_entry(code: str, *, fresh: bool = False) -> CatalogueEntry:
    """Return the intake view of an active service type, from the cache when it is recent.

    A stale entry can never store a wrong row: the intake statement re-checks the type's id,
    activity and department, and a mismatch makes submit_request look the type up again.

    :raises DomainError: no active type has this code.
    """
    cache: dict[str, tuple[float, CatalogueEntry]] = current_app.extensions.setdefault(
        "city311_catalogue", {}
    )
    now = time.monotonic()
    hit = cache.get(code)
    if (
        hit is not None
        and not fresh
        and now - hit[0] < current_app.config["CATALOGUE_CACHE_SECONDS"]
    ):
        return hit[1]
    row = db.session.execute(
        select(
            ServiceType.id,
            ServiceType.code,
            ServiceType.name,
            ServiceType.department_id,
            Department.code,
            Department.name,
            ServiceType.sla_value,
            ServiceType.sla_unit,
            ServiceType.attributes,
        )
        .join(Department, Department.id == ServiceType.department_id)
        .where(ServiceType.code == code, ServiceType.active.is_(True))
    ).one_or_none()
    if row is None:
        cache.pop(code, None)
        raise DomainError(
            f"Unknown service code {code!r}: GET /api/v1/services lists the valid codes.",
            field="service_code",
        )
    entry = CatalogueEntry(*row)
    cache[code] = (now, entry)
    return entry


def create_service_type(
    code: str,
    name: str,
    department_id: int,
    *,
    sla_value: int,
    sla_unit: str = "hours",
    group: str = "",
    description: str = "",
    keywords: str = "",
    attributes: list[dict[str, Any]] | None = None,
    completion_photo_required: bool = True,
    active: bool = True,
) -> ServiceType:
    """Add a service type to the catalogue, owned by a department, with its SLA and questions.

    :raises DomainError: a missing code or name, a bad SLA or a malformed question (400).
    :raises NotFound: no such department (404).
    :raises Conflict: a type already has this code (409).
    """
    code, name = (code or "").strip(), (name or "").strip()
    if not code or len(code) > 80:
        raise DomainError("A service code has 1 to 80 characters.", field="code")
    if not name or len(name) > 200:
        raise DomainError("A service name has 1 to 200 characters.", field="name")
    if sla_unit not in SLA_UNITS:
        raise DomainError(f"The SLA unit is one of {', '.join(SLA_UNITS)}.", field="sla_unit")
    if not isinstance(sla_value, int) or isinstance(sla_value, bool) or sla_value <= 0:
        raise DomainError("The SLA target is a whole number above 0.", field="sla_value")
    questions = [_check_question(q) for q in attributes or []]
    if db.session.get(Department, department_id) is None:
        raise NotFound(f"There is no department {department_id}.", field="department_id")
    if db.session.scalar(select(ServiceType.id).where(ServiceType.code == code)) is not None:
        raise Conflict(f"There is already a service type {code!r}.", field="code")
    st = ServiceType(
        code=code,
        name=name,
        department_id=department_id,
        sla_value=sla_value,
        sla_unit=sla_unit,
        group=group,
        description=description,
        keywords=keywords,
        attributes=questions,
        completion_photo_required=completion_photo_required,
        active=active,
    )
    db.session.add(st)
    db.session.flush()
    return st


def _check_question(q: dict[str, Any]) -> dict[str, Any]:
    code = str(q.get("code") or "").strip()
    if not code:
        raise DomainError("Every question needs a code.", field="attributes")
    datatype = q.get("datatype", "string")
    if datatype not in ATTRIBUTE_DATATYPES:
        raise DomainError(
            f"Question {code}: the datatype is one of {', '.join(ATTRIBUTE_DATATYPES)}.",
            field="attributes",
        )
    if datatype.endswith("valuelist") and not q.get("values"):
        raise DomainError(f"Question {code}: a list question needs values.", field="attributes")
    return {**q, "code": code, "datatype": datatype}


def compute_due_at(requested_at: datetime, st: ServiceType | CatalogueEntry) -> datetime:
    """Return when a request of this type is due under its SLA."""
    if st.sla_unit == "business_days":
        return add_business_days(requested_at, st.sla_value, city_tz())
    return requested_at + timedelta(hours=st.sla_value)


def validate_attributes(
    st: ServiceType | CatalogueEntry, answers: dict[str, Any]
) -> dict[str, Any]:
    """Check answers against the type's questions; return them normalised.

    Answers to unknown questions are dropped: clients send extras that mean nothing here.

    :raises DomainError: a required answer is missing or an answer is not of its datatype.
    """
    clean: dict[str, Any] = {}
    for q in st.attributes or []:
        if not q.get("variable", True):
            continue  # informational text, nothing to answer
        code = q["code"]
        value = answers.get(code)
        if isinstance(value, str):
            value = value.strip()
        if value in (None, "", []):
            if q.get("required"):
                label = q.get("description") or q.get("label") or code
                raise DomainError(f"Answer the question {label!r} (attribute {code}).", field=code)
            continue
        clean[code] = _coerce_answer(q, value)
    return clean


def _coerce_answer(q: dict[str, Any], value: Any) -> Any:
    code, datatype = q["code"], q.get("datatype", "string")
    allowed = {str(v["key"]) for v in q.get("values", [])}
    if datatype == "number":
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise DomainError(
                f"Attribute {code} must be a number, not {value!r}.", field=code
            ) from None
        if not number.is_finite():
            raise DomainError(f"Attribute {code} must be a finite number.", field=code)
        return float(number)
    if datatype == "datetime":
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise DomainError(
                f"Attribute {code} must be an ISO 8601 date and time, not {value!r}.", field=code
            ) from None
        return moment.isoformat()
    if datatype == "singlevaluelist":
        if isinstance(value, list):
            if len(value) != 1:
                raise DomainError(f"Attribute {code} takes exactly one value.", field=code)
            value = value[0]
        if str(value) not in allowed:
            raise DomainError(
                f"Attribute {code} must be one of {sorted(allowed)}, not {value!r}.", field=code
            )
        return str(value)
    if datatype == "multivaluelist":
        values = value if isinstance(value, list) else [value]
        bad = [v for v in values if str(v) not in allowed]
        if bad:
            raise DomainError(
                f"Attribute {code} values must be among {sorted(allowed)}; {bad!r} are not.",
                field=code,
            )
        return [str(v) for v in values]
    text_value = str(value)
    if len(text_value) > MAX_DESCRIPTION:
        raise DomainError(
            f"Attribute {code} is longer than {MAX_DESCRIPTION} characters.", field=code
        )
    return text_value


# ---------------------------------------------------------------------------------------------
# intake

_INSERT_REQUEST = text(
    f"""
    WITH point AS (
        SELECT ST_SetSRID(ST_MakePoint(:long, :lat), 4326) AS geom
    ), district AS (
        {covering_district_sql("ST_SetSRID(ST_MakePoint(:long, :lat), 4326)", ":district_kind")}
    ), sr AS (
        INSERT INTO service_requests (
            service_type_id, department_id, district_id, description, location, address,
            status, channel, reporter_name, reporter_email, reporter_phone, attributes,
            requested_at, due_at, updated_at, created_by_id,
            address_id, reporter_device_id, reporter_account_id, media_url
        )
        SELECT :service_type_id, :department_id, district.id, :description, point.geom, :address,
               'new', :channel, :name, :email, :phone, CAST(:attributes AS jsonb),
               :requested_at, :due_at, :requested_at, :actor_id,
               :address_id, :device_id, :account_id, :media_url
        FROM district, point
        -- the caller's (possibly cached) view of the service type must still be true
        WHERE EXISTS (
            SELECT 1 FROM service_types st
            WHERE st.id = :service_type_id AND st.active AND st.department_id = :department_id
        )
        RETURNING id
    ), ev AS (
        INSERT INTO request_events (request_id, kind, at, actor_id, to_status, public, data)
        SELECT sr.id, 'created', :requested_at, :actor_id, 'new', true, CAST(:event_data AS jsonb)
        FROM sr
    )
    SELECT sr.id, district.code, district.name FROM sr, district
    """
)


def check_location(lat: float, long: float) -> None:
    """Refuse coordinates that are not numbers on the globe.

    :raises DomainError: lat or long missing, not finite or out of range.
    """
    for name, value, bound in (("lat", lat, 90), ("long", long, 180)):
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
        ):
            raise DomainError(f"{name} must be a number in decimal degrees.", field=name)
        if not -bound <= value <= bound:
            raise DomainError(f"{name} must be between -{bound} and {bound}.", field=name)


def submit_request(
    new: NewRequest,
    *,
    channel: str,
    actor_id: int | None = None,
    photo: media.ValidatedPhoto | None = None,
    requested_at: datetime | None = None,
) -> SubmittedRequest:
    """Store a new request, routed to its department and district, with its SLA due time.

    The insert, the district lookup and the 'created' event are one SQL statement: intake is
    the hottest path of the system.

    :raises DomainError: unknown service code, bad description, contact or answers (400).
    :raises OutsideJurisdiction: the point is in none of the city's districts (400).
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    description = (new.description or "").strip()
    if not description:
        raise DomainError("Describe the problem: description is required.", field="description")
    if len(description) > MAX_DESCRIPTION:
        raise DomainError(
            f"The description is {len(description)} characters long; the limit is "
            f"{MAX_DESCRIPTION}.",
            field="description",
        )
    check_location(new.lat, new.long)
    email = (new.email or "").strip().lower()
    if email and not _EMAIL.match(email):
        raise DomainError(f"{new.email!r} is not an email address.", field="email")
    requested_at = requested_at or utcnow()
    # A refusal may come from a cached view of the type that has since changed (its
    # questions, department or activity): then decide again on the type as it is now.
    st = catalogue_entry(new.service_code)
    try:
        row = _insert(new, st, channel, description, email, requested_at, actor_id)
    except DomainError:
        fresh = catalogue_entry(new.service_code, fresh=True)
        if fresh == st:
            raise
        st, row = fresh, _insert(new, fresh, channel, description, email, requested_at, actor_id)
    else:
        if row is None:
            fresh = catalogue_entry(new.service_code, fresh=True)
            if fresh != st:
                st = fresh
                row = _insert(new, st, channel, description, email, requested_at, actor_id)
    if row is None:
        raise OutsideJurisdiction(
            f"The location ({new.lat:.5f}, {new.long:.5f}) is outside "
            f"{current_app.config['CITY_NAME']}: we can only take requests inside the city.",
            field="location",
        )
    request_id, district_code, district_name, due_at = row
    photo_id = None
    if photo is not None:
        photo_id = media.attach_photo(photo, kind="report", request_id=request_id).id
    signals.request_submitted.send(
        app_object(),
        request_id=request_id,
        reporter_email=email,
        channel=channel,
    )
    return SubmittedRequest(
        id=request_id,
        status="new",
        service_code=st.code,
        service_name=st.name,
        department_code=st.department_code,
        department_name=st.department_name,
        district_code=district_code,
        district_name=district_name,
        requested_at=requested_at,
        due_at=due_at,
        photo_id=photo_id,
    )


def _insert(
    new: NewRequest,
    st: CatalogueEntry,
    channel: str,
    description: str,
    email: str,
    requested_at: datetime,
    actor_id: int | None,
) -> tuple[int, str, str, datetime] | None:
    """Run the intake statement; return (id, district code, district name, due_at) or None."""
    answers = validate_attributes(st, new.attributes or {})
    due_at = compute_due_at(requested_at, st)
    row = db.session.execute(
        _INSERT_REQUEST,
        {
            "lat": new.lat,
            "long": new.long,
            "district_kind": routing_kind(),
            "service_type_id": st.id,
            "department_id": st.department_id,
            "description": description,
            "address": (new.address or "").strip()[:400],
            "channel": channel,
            "name": (new.name or "").strip()[:200],
            "email": email[:254],
            "phone": (new.phone or "").strip()[:40],
            "attributes": json.dumps(answers),
            "requested_at": requested_at,
            "due_at": due_at,
            "actor_id": actor_id,
            "address_id": (new.address_id or "").strip()[:100],
            "device_id": (new.device_id or "").strip()[:200],
            "account_id": (new.account_id or "").strip()[:200],
            "media_url": (new.media_url or "").strip(),
            "event_data": json.dumps(
                {"channel": channel, "department": st.department_code}, separators=(",", ":")
            ),
        },
    ).one_or_none()
    return None if row is None else (row[0], row[1], row[2], due_at)


# ---------------------------------------------------------------------------------------------
# reading


def get_request(request_id: int, *, for_update: bool = False) -> ServiceRequest:
    """Return a request by its number.

    :raises NotFound: there is no such request.
    """
    stmt = select(ServiceRequest).where(ServiceRequest.id == request_id)
    if for_update:
        stmt = stmt.with_for_update(of=ServiceRequest)
    sr = db.session.scalar(stmt)
    if sr is None:
        raise NotFound(f"There is no service request {request_id}.")
    return sr


def department_queue(department_id: int, *, limit: int = 500) -> list[ServiceRequest]:
    """Return the department's open requests, most overdue (earliest due) first."""
    return list(
        db.session.scalars(
            select(ServiceRequest)
            .where(ServiceRequest.department_id == department_id, ServiceRequest.status != "closed")
            .order_by(ServiceRequest.due_at, ServiceRequest.id)
            .limit(limit)
        )
    )


def public_events(sr: ServiceRequest) -> list[RequestEvent]:
    """Return the events a resident may see, oldest first."""
    return [e for e in sr.events if e.public]


def public_photos(sr: ServiceRequest) -> list[tuple[int, str]]:
    """Return (id, kind) of the photos the public may see: the report's, then each fix's."""
    from app.media.models import Photo

    photos = [
        (pid, "report")
        for pid in db.session.scalars(
            select(Photo.id).where(Photo.request_id == sr.id).order_by(Photo.id)
        )
    ]
    photos += [
        (e.data["photo_id"], "after") for e in sr.events if e.public and e.data.get("photo_id")
    ]
    return list(dict.fromkeys(photos))


def public_photo_ids(sr: ServiceRequest) -> list[int]:
    """Return the ids of the photos the public may see, report first."""
    return [pid for pid, _ in public_photos(sr)]


SEARCH_PAGE_SIZE = 50
#: a query of at least this many digits is also tried as a phone number
MIN_PHONE_DIGITS = 7
#: phone numbers compare on their last 10 digits, so "+1 617 555 0199" = "(617) 555-0199"
PHONE_DIGITS_COMPARED = 10
_PHONE_LIKE = re.compile(r"#?[\d\s().+\-]+")


def phone_digits(value: str) -> str:
    """Return the digits of a phone number that searches compare: at most the last 10."""
    return re.sub(r"\D", "", value)[-PHONE_DIGITS_COMPARED:]


def search_requests(
    q: str,
    *,
    status: str = "",
    department_id: int | None = None,
    page: int = 1,
    page_size: int = SEARCH_PAGE_SIZE,
) -> tuple[list[ServiceRequest], int]:
    """Find requests by number, reporter email or phone, or words; newest first.

    A query with "@" is an email (case-insensitive, whole address). A query of digits and
    phone punctuation is a request number (digits only) and, with 7 digits or more, a phone
    number: digits compare, on the last 10 of each, so a leading country code on either
    side does not matter and 7 digits find the numbers that end with them. Anything else
    is words that must all appear in the description or the address.
    """
    conditions: list[Any] = []
    exact_id: int | None = None
    q = q.strip()
    if "@" in q:
        conditions.append(func.lower(ServiceRequest.reporter_email) == q.lower())
    elif _PHONE_LIKE.fullmatch(q):
        number = q.removeprefix("#")
        if number.isdigit() and len(number) <= 18:
            exact_id = int(number)
            conditions.append(ServiceRequest.id == exact_id)
        digits = phone_digits(q)
        if len(digits) >= MIN_PHONE_DIGITS:
            stored = func.regexp_replace(ServiceRequest.reporter_phone, r"\D", "", "g")
            conditions.append(func.right(stored, len(digits)) == digits)
    if q and not conditions:
        text_of = ServiceRequest.description + " " + ServiceRequest.address
        conditions.append(
            and_(*(text_of.ilike(f"%{_like_escape(w)}%", escape="\\") for w in q.split()[:12]))
        )
    stmt = select(ServiceRequest).options(lazyload(ServiceRequest.events))
    if conditions:
        stmt = stmt.where(or_(*conditions))
    if status == "open":
        stmt = stmt.where(ServiceRequest.status != "closed")
    elif status:
        stmt = stmt.where(ServiceRequest.status == status)
    if department_id is not None:
        stmt = stmt.where(ServiceRequest.department_id == department_id)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    order: list[Any] = [ServiceRequest.requested_at.desc(), ServiceRequest.id.desc()]
    if exact_id is not None:
        order.insert(0, (ServiceRequest.id == exact_id).desc())
    items = db.session.scalars(
        stmt.order_by(*order).limit(page_size).offset((max(page, 1) - 1) * page_size)
    )
    return list(items), total


def _like_escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# ---------------------------------------------------------------------------------------------
# transitions


def _record(
    sr: ServiceRequest,
    kind: str,
    *,
    actor_id: int | None,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str = "",
    public: bool = True,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> RequestEvent:
    event = RequestEvent(
        request_id=sr.id,
        kind=kind,
        at=at or utcnow(),
        actor_id=actor_id,
        from_status=from_status,
        to_status=to_status,
        note=note,
        public=public,
        data=data or {},
    )
    db.session.add(event)
    sr.updated_at = event.at
    return event


def _move(
    sr: ServiceRequest,
    to: str,
    *,
    kind: str,
    actor_id: int | None,
    note: str = "",
    public: bool = True,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> RequestEvent:
    if to not in STATUSES:
        raise DomainError(f"Unknown status {to!r}; use one of {', '.join(STATUSES)}.")
    if sr.status == to:
        raise Conflict(f"Request {sr.id} is already {to.replace('_', ' ')}.")
    if to not in TRANSITIONS[sr.status]:
        raise Conflict(
            f"Request {sr.id} is {sr.status.replace('_', ' ')}; it cannot become "
            f"{to.replace('_', ' ')}."
        )
    from_status = sr.status
    sr.status = to
    event = _record(
        sr,
        kind,
        actor_id=actor_id,
        from_status=from_status,
        to_status=to,
        note=note,
        public=public,
        data=data,
        at=at,
    )
    if to != "new" and sr.acknowledged_at is None:
        # any staff action on a new request is its acknowledgement (time-to-acknowledge KPI)
        sr.acknowledged_at = event.at
    db.session.flush()
    signals.request_status_changed.send(
        app_object(), request_id=sr.id, from_status=from_status, to_status=to
    )
    return event


def acknowledge(
    sr: ServiceRequest, *, actor_id: int | None, note: str = "", at: datetime | None = None
) -> RequestEvent:
    """Mark a new request as seen by the department.

    :raises Conflict: the request is no longer new.
    """
    if sr.status != "new":
        raise Conflict(
            f"Request {sr.id} is {sr.status.replace('_', ' ')}: "
            "only a new request can be acknowledged."
        )
    return _move(sr, "acknowledged", kind="acknowledged", actor_id=actor_id, note=note, at=at)


def return_to_queue(sr: ServiceRequest, *, actor_id: int | None, note: str) -> RequestEvent:
    """Send an assigned or started request back to its department's queue (crew called off)."""
    return _move(sr, "acknowledged", kind="status_changed", actor_id=actor_id, note=note)


def mark_assigned(
    sr: ServiceRequest, *, actor_id: int | None, work_order_id: int, crew_name: str
) -> RequestEvent:
    """Record that a crew has been sent to this request."""
    return _move(
        sr,
        "assigned",
        kind="assigned",
        actor_id=actor_id,
        note=f"Assigned to {crew_name}.",
        data={"work_order_id": work_order_id, "crew": crew_name},
    )


def mark_in_progress(
    sr: ServiceRequest, *, actor_id: int | None, work_order_id: int | None = None
) -> RequestEvent:
    """Record that work on the request has started."""
    return _move(
        sr,
        "in_progress",
        kind="status_changed",
        actor_id=actor_id,
        note="Work has started.",
        data={"work_order_id": work_order_id} if work_order_id else None,
    )


def put_on_hold(sr: ServiceRequest, *, actor_id: int | None, note: str) -> RequestEvent:
    """Pause a request (waiting on parts, weather, another agency)."""
    return _move(sr, "on_hold", kind="status_changed", actor_id=actor_id, note=note)


def close(
    sr: ServiceRequest,
    *,
    reason: str,
    actor_id: int | None,
    note: str = "",
    photo_id: int | None = None,
    work_order_id: int | None = None,
    at: datetime | None = None,
) -> RequestEvent:
    """Close a request with a reason; the note is public and goes to the reporter.

    `at` is when the work was done, if not now (a crew's completion time, an import).

    :raises DomainError: unknown reason, or no note for a reason other than fixed.
    :raises Conflict: the request is already closed.
    """
    if reason not in CLOSURE_REASONS:
        raise DomainError(
            f"Unknown closure reason {reason!r}; use one of {', '.join(CLOSURE_REASONS)}.",
            field="reason",
        )
    if sr.status == "closed":
        raise Conflict(f"Request {sr.id} is already closed.")
    if reason != "fixed" and not note.strip():
        # "closed" must never hide "not fixed" from the reporter without a word of why
        raise DomainError(
            "Write a note unless the reason is fixed: say why, the reporter reads it.",
            field="note",
        )
    from_status = sr.status
    data: dict[str, Any] = {"reason": reason}
    if photo_id:
        data["photo_id"] = photo_id
    if work_order_id:
        data["work_order_id"] = work_order_id
    event = _record(
        sr,
        "closed",
        actor_id=actor_id,
        from_status=from_status,
        to_status="closed",
        note=note,
        data=data,
        at=at,
    )
    sr.status = "closed"
    sr.closed_at = event.at
    sr.closure_reason = reason
    sr.closure_note = note
    if sr.acknowledged_at is None:
        sr.acknowledged_at = event.at
    db.session.flush()
    app = app_object()
    signals.request_status_changed.send(
        app, request_id=sr.id, from_status=from_status, to_status="closed"
    )
    signals.request_closed.send(
        app,
        request_id=sr.id,
        event_id=event.id,
        reason=reason,
        note=note,
        photo_id=photo_id,
        work_order_id=work_order_id,
        reporter_email=sr.reporter_email,
    )
    return event


def reopen(sr: ServiceRequest, *, actor_id: int | None, note: str) -> RequestEvent:
    """Reopen a closed request; it returns to 'acknowledged' and its SLA clock keeps running.

    :raises Conflict: the request is not closed.
    """
    if sr.status != "closed":
        raise Conflict(f"Request {sr.id} is not closed, so it cannot be reopened.")
    if not note.strip():
        raise DomainError("Say why the request is reopened.", field="note")
    event = _record(
        sr,
        "reopened",
        actor_id=actor_id,
        from_status="closed",
        to_status="acknowledged",
        note=note,
        data={"previous_reason": sr.closure_reason},
    )
    sr.status = "acknowledged"
    sr.closed_at = None
    sr.closure_reason = None
    sr.closure_note = ""
    db.session.flush()
    signals.request_status_changed.send(
        app_object(),
        request_id=sr.id,
        from_status="closed",
        to_status="acknowledged",
    )
    return event


def add_note(sr: ServiceRequest, *, actor_id: int | None, note: str, public: bool) -> RequestEvent:
    """Add a public or internal note to a request's history."""
    if not note.strip():
        raise DomainError("The note is empty.", field="note")
    event = _record(sr, "note", actor_id=actor_id, note=note.strip(), public=public)
    db.session.flush()
    return event

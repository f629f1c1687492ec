"""Intake: store a new request, routed to its department and district, in one SQL statement."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app

from app.core import app_object
from app.core.clock import utcnow
from app.core.errors import DomainError, OutsideJurisdiction
from app.extensions import db
from app.geo.routing import covering_district_sql, routing_kind
from app.media import service as media
from app.requests import companions, signals
from app.requests.catalogue import (
    CatalogueEntry,
    catalogue_entry,
    compute_due_at,
    validate_attributes,
)
from app.requests.models import CHANNELS, MAX_TEXT, NOTIFY_CHOICES
from app.requests.routing import rule_sql
from app.requests.words import LANGUAGE_NAMES, LANGUAGES

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: what may separate the digits of a phone number as people type it
_PHONE_PUNCTUATION = re.compile(r"[\s().\-/]")


class EmergencyService(DomainError):
    """The type is an emergency: the reporter must call, not file a request."""

    code = "call_emergency"


def public_channel(channel: str, actor_id: int | None) -> bool:
    """Tell whether a request comes from the public (not a member of staff, not an import)."""
    return channel in ("web", "mobile", "open311") or (channel == "api" and actor_id is None)


def check_offered(st: CatalogueEntry) -> None:
    """Refuse a public report of an internal type, or of an emergency (which needs a call).

    :raises DomainError: the type is internal: to the public it does not exist (400).
    :raises EmergencyService: the type has an emergency notice, given as the message (400).
    """
    if not st.public:
        raise DomainError(
            f"Unknown service code {st.code!r}: GET /api/v1/services lists the valid codes.",
            field="service_code",
        )
    if st.emergency_notice:
        raise EmergencyService(
            f"{st.emergency_notice} (This is not reported online: {st.name} needs a call.)",
            field="service_code",
        )


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
    #: how the reporter wants news: email, sms, both or none; empty: by email if given one
    notify: str = ""
    #: the language of the reporter's messages (words.LANGUAGES); empty: the default
    language: str = ""
    #: staff only: the message the request came from (a social media post's link)
    source_url: str = ""


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
    #: the crew a routing rule proposes, if any
    crew_id: int | None = None
    #: every photo stored with the report, photo_id first
    photo_ids: tuple[int, ...] = ()


#: the intake statement up to the request's own writes; companions' CTEs follow (see below)
_INTAKE_CTES = f"""
    WITH point AS (
        SELECT ST_SetSRID(ST_MakePoint(:long, :lat), 4326) AS geom
    ), district AS (
        {covering_district_sql("ST_SetSRID(ST_MakePoint(:long, :lat), 4326)", ":district_kind")}
    ), rule AS (
        {rule_sql(":service_type_id", "(SELECT id FROM district)")}
    ), sr AS (
        INSERT INTO service_requests (
            service_type_id, department_id, district_id, description, location, address,
            status, channel, reporter_name, reporter_email, reporter_phone, attributes,
            requested_at, due_at, updated_at, created_by_id,
            address_id, reporter_device_id, reporter_account_id, media_url, crew_id,
            notify, language, source_url
        )
        SELECT :service_type_id, COALESCE(rule.department_id, :department_id), district.id,
               :description, point.geom, :address,
               'new', :channel, :name, :email, :phone, CAST(:attributes AS jsonb),
               :requested_at, :due_at, :requested_at, :actor_id,
               :address_id, :device_id, :account_id, :media_url, rule.crew_id,
               :notify, :language, :source_url
        FROM district CROSS JOIN point LEFT JOIN rule ON true
        -- the caller's (possibly cached) view of the service type must still be true
        WHERE EXISTS (
            SELECT 1 FROM service_types st
            WHERE st.id = :service_type_id AND st.active AND st.department_id = :department_id
        )
        RETURNING id
    ), ev AS (
        INSERT INTO request_events (request_id, kind, at, actor_id, to_status, public, data)
        SELECT sr.id, 'created', :requested_at, :actor_id, 'new', true,
               -- a rule's department replaces the type's; its id and crew say why
               CAST(:event_data AS jsonb) || jsonb_strip_nulls(jsonb_build_object(
                   'department', rule.department_code, 'routing_rule_id', rule.id,
                   'crew_id', rule.crew_id
               ))
        FROM sr LEFT JOIN rule ON true
    )"""
_INTAKE_SELECT = """
    SELECT sr.id, district.code, district.name,
           rule.department_code, rule.department_name, rule.crew_id{extra}
    FROM sr CROSS JOIN district LEFT JOIN rule ON true
"""


@dataclass(frozen=True)
class _Routed:
    """What a routing rule chose, all None when no rule applied (the type's department)."""

    department_code: str | None
    department_name: str | None
    crew_id: int | None


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
    photos: Sequence[media.ValidatedPhoto] = (),
    requested_at: datetime | None = None,
) -> SubmittedRequest:
    """Store a new request, routed to its district and department, with its SLA due time.

    The department is the type's, unless a routing rule for the type (in the request's
    district, or in every district) names another, and maybe a crew to propose. The insert,
    the district and rule lookups and the 'created' event are one SQL statement: intake is
    the hottest path of the system.

    :raises DomainError: unknown service code, bad description, contact or answers (400).
    :raises OutsideJurisdiction: the point is in none of the city's districts (400).
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    description = (new.description or "").strip()
    if not description:
        raise DomainError("Describe the problem: description is required.", field="description")
    if len(description) > MAX_TEXT:
        raise DomainError(
            f"The description is {len(description)} characters long; the limit is {MAX_TEXT}.",
            field="description",
        )
    check_location(new.lat, new.long)
    email = (new.email or "").strip().lower()
    if email and not _EMAIL.match(email):
        raise DomainError(f"{new.email!r} is not an email address.", field="email")
    notify, phone = _channels(new, email)
    language = new.language or LANGUAGES[0]
    if language not in LANGUAGES:
        choices = ", ".join(f"{code} ({LANGUAGE_NAMES[code]})" for code in LANGUAGES)
        raise DomainError(f"language must be one of {choices}.", field="language")
    contact = _Contact(email, phone, notify, language)
    # what the features above are told: only the contacts the reporter chose to hear on
    owed = companions.Submission(
        channel=channel,
        reporter_email=email if notify in ("email", "both") else "",
        reporter_phone=phone if notify in ("sms", "both") else "",
        language=language,
    )
    requested_at = requested_at or utcnow()
    # A refusal may come from a cached view of the type that has since changed (its
    # questions, department or activity): then decide again on the type as it is now.
    st = catalogue_entry(new.service_code)
    if public_channel(channel, actor_id) and (not st.public or st.emergency_notice):
        st = catalogue_entry(new.service_code, fresh=True)
        check_offered(st)
    try:
        row = _insert(new, st, description, contact, requested_at, actor_id, owed)
    except DomainError:
        fresh = catalogue_entry(new.service_code, fresh=True)
        if fresh == st:
            raise
        st, row = fresh, _insert(new, fresh, description, contact, requested_at, actor_id, owed)
    else:
        if row is None:
            fresh = catalogue_entry(new.service_code, fresh=True)
            if fresh != st:
                st = fresh
                row = _insert(new, st, description, contact, requested_at, actor_id, owed)
    if row is None:
        raise OutsideJurisdiction(
            f"The location ({new.lat:.5f}, {new.long:.5f}) is outside "
            f"{current_app.config['CITY_NAME']}: we can only take requests inside the city.",
            field="location",
        )
    request_id, district_code, district_name, due_at, routed = row
    photo_ids = tuple(
        media.attach_photo(p, kind="report", request_id=request_id).id
        for p in ([photo] if photo is not None else []) + list(photos)
    )
    signals.request_submitted.send(
        app_object(),
        request_id=request_id,
        reporter_email=owed.reporter_email,
        reporter_phone=owed.reporter_phone,
        language=owed.language,
        channel=channel,
    )
    return SubmittedRequest(
        id=request_id,
        status="new",
        service_code=st.code,
        service_name=st.name,
        department_code=routed.department_code or st.department_code,
        department_name=routed.department_name or st.department_name,
        district_code=district_code,
        district_name=district_name,
        requested_at=requested_at,
        due_at=due_at,
        photo_id=photo_ids[0] if photo_ids else None,
        crew_id=routed.crew_id,
        photo_ids=photo_ids,
    )


@dataclass(frozen=True)
class _Contact:
    """The reporter's contact as stored: checked, normalised, with the channels chosen."""

    email: str
    phone: str
    notify: str
    language: str


def sms_number(phone: str) -> str:
    """Return a phone number in E.164 form (+16175550199), as SMS providers take it.

    Ten digits are a North American number (country code SMS_COUNTRY_CODE, 1 by default).

    :raises DomainError: not a number a text message can be sent to.
    """
    digits = _PHONE_PUNCTUATION.sub("", phone or "")
    country = current_app.config["SMS_COUNTRY_CODE"]
    if digits.startswith("+") and digits[1:].isdigit() and 8 <= len(digits) - 1 <= 15:
        return digits
    if digits.isdigit() and len(digits) == 10 and country == "1":
        return f"+1{digits}"
    if digits.isdigit() and len(digits) == 11 and digits.startswith("1") and country == "1":
        return f"+{digits}"
    raise DomainError(
        "To get text messages, give a mobile number such as (617) 555-0199 or +1 617 555 0199.",
        field="phone",
    )


def _channels(new: NewRequest, email: str) -> tuple[str, str]:
    """Return (notify, phone) as stored; a phone that gets texts is kept in E.164 form.

    :raises DomainError: an unknown choice, or a channel chosen without its contact.
    """
    phone = (new.phone or "").strip()[:40]
    notify = (new.notify or "").strip().lower() or "email"
    if notify not in NOTIFY_CHOICES:
        raise DomainError(
            f"notify must be one of {', '.join(NOTIFY_CHOICES)}, not {new.notify!r}.",
            field="notify",
        )
    if notify in ("email", "both") and not email and new.notify:
        raise DomainError("Give an email address to get updates by email.", field="email")
    if notify in ("sms", "both"):
        if not phone:
            raise DomainError("Give a mobile number to get updates by text.", field="phone")
        phone = sms_number(phone)
    return notify, phone


def _insert(
    new: NewRequest,
    st: CatalogueEntry,
    description: str,
    contact: _Contact,
    requested_at: datetime,
    actor_id: int | None,
    submission: companions.Submission,
) -> tuple[int, str, str, datetime, _Routed] | None:
    """Run the intake statement; return (id, district code and name, due_at, route) or None.

    The statement also makes the writes the features above owe every new request (their
    companions), so that nothing more is said to the database before the commit.
    """
    answers = validate_attributes(st, new.attributes or {})
    due_at = compute_due_at(requested_at, st)
    params: dict[str, Any] = {
        "lat": new.lat,
        "long": new.long,
        "district_kind": routing_kind(),
        "service_type_id": st.id,
        "department_id": st.department_id,
        "description": description,
        "address": (new.address or "").strip()[:400],
        "channel": submission.channel,
        "name": (new.name or "").strip()[:200],
        "email": contact.email[:254],
        "phone": contact.phone,
        "notify": contact.notify,
        "language": contact.language,
        "attributes": json.dumps(answers),
        "requested_at": requested_at,
        "due_at": due_at,
        "actor_id": actor_id,
        "address_id": (new.address_id or "").strip()[:100],
        "device_id": (new.device_id or "").strip()[:200],
        "account_id": (new.account_id or "").strip()[:200],
        "media_url": (new.media_url or "").strip(),
        "source_url": (new.source_url or "").strip()[:2000],
        "event_data": json.dumps(
            {"channel": submission.channel, "department": st.department_code}, separators=(",", ":")
        ),
    }
    for companion in companions.registered():
        params.update(companion.params(submission))
    statement = companions.statement(_INTAKE_CTES, _INTAKE_SELECT)
    row = db.session.execute(statement, params).one_or_none()
    if row is None:
        return None
    return row[0], row[1], row[2], due_at, _Routed(row[3], row[4], row[5])

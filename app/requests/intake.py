"""Intake: store a new request, routed to its department and district, in one SQL statement
(app/requests/intake_sql.py), maybe with others a web process received at once
(app/requests/intake_batch.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import TextClause

from app.core import app_object
from app.core.clock import utcnow
from app.core.errors import DomainError, OutsideJurisdiction
from app.geo.routing import routing_kind
from app.media import service as media
from app.media import uploads as photo_uploads
from app.requests import companions, intake_batch, signals
from app.requests.catalogue import (
    CatalogueEntry,
    catalogue_entry,
    compute_due_at,
    validate_attributes,
)
from app.requests.intake_checks import (
    Contact,
    EmergencyService,
    check_location,
    check_offered,
    check_request,
)
from app.requests.intake_sql import INPUT_COLUMNS, INTAKE_SELECT, intake_ctes
from app.requests.models import CHANNELS

__all__ = [
    "EmergencyService",
    "NewRequest",
    "SubmittedRequest",
    "check_location",
    "check_offered",
    "public_channel",
    "submit_request",
]


def public_channel(channel: str, actor_id: int | None) -> bool:
    """Tell whether a request comes from the public (not a member of staff, not an import)."""
    return channel in ("web", "mobile", "open311") or (channel == "api" and actor_id is None)


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


@dataclass(frozen=True)
class _Routed:
    """What a routing rule chose, all None when no rule applied (the type's department)."""

    department_code: str | None
    department_name: str | None
    crew_id: int | None


def outside_city(lat: float, long: float) -> OutsideJurisdiction:
    """Return the error for a point in none of the city's districts (400)."""
    return OutsideJurisdiction(
        f"The location ({lat:.5f}, {long:.5f}) is outside "
        f"{current_app.config['CITY_NAME']}: we can only take requests inside the city.",
        field="location",
    )


def submit_request(
    new: NewRequest,
    *,
    channel: str,
    actor_id: int | None = None,
    photo: media.ValidatedPhoto | None = None,
    photos: Sequence[media.ValidatedPhoto] = (),
    uploads: Sequence[photo_uploads.Upload] = (),
    requested_at: datetime | None = None,
    alone: bool = False,
) -> SubmittedRequest:
    """Store a new request, routed to its district and department, with its SLA due time.

    The department is the type's, unless a routing rule for the type (in the request's
    district, or in every district) names another, and maybe a crew to propose. The insert,
    the district and rule lookups and the 'created' event are one SQL statement: intake is
    the hottest path of the system.

    `alone`: the caller writes nothing else with the request (an API's POST), so that a
    report without photos, with no transaction open, is stored by one autocommitted
    statement (core.direct): one round trip instead of three, shared with the other such
    reports this process received at the same moment (intake_batch).

    :raises DomainError: unknown service code, bad description, contact or answers (400).
    :raises OutsideJurisdiction: the point is in none of the city's districts (400).
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    checked = check_request(
        new,
        public=public_channel(channel, actor_id),
        sms_country=current_app.config["SMS_COUNTRY_CODE"],
    )
    checked.raise_first()
    assert checked.entry is not None and checked.contact is not None
    st, contact, description = checked.entry, checked.contact, checked.description
    email, phone, notify, language = contact.email, contact.phone, contact.notify, contact.language
    # what the features above are told: only the contacts the reporter chose to hear on
    owed = companions.Submission(
        channel=channel,
        reporter_email=email if notify in ("email", "both") else "",
        reporter_phone=phone if notify in ("sms", "both") else "",
        language=language,
    )
    requested_at = requested_at or utcnow()
    alone = alone and photo is None and not photos and not uploads

    def insert(entry: CatalogueEntry) -> tuple[int, str, str, datetime, _Routed] | None:
        return _insert(new, entry, description, contact, requested_at, actor_id, owed, alone)

    try:
        row = insert(st)
    except DomainError:
        fresh = catalogue_entry(new.service_code, fresh=True)
        if fresh == st:
            raise
        st, row = fresh, insert(fresh)
    else:
        if row is None:
            fresh = catalogue_entry(new.service_code, fresh=True)
            if fresh != st:
                st, row = fresh, insert(fresh)
    if row is None:
        raise outside_city(new.lat, new.long)
    request_id, district_code, district_name, due_at, routed = row
    # photos sent ahead (by token) first: they were chosen first
    photo_ids = photo_uploads.claim(list(uploads), request_id) + tuple(
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


def _insert(
    new: NewRequest,
    st: CatalogueEntry,
    description: str,
    contact: Contact,
    requested_at: datetime,
    actor_id: int | None,
    submission: companions.Submission,
    alone: bool,
) -> tuple[int, str, str, datetime, _Routed] | None:
    """Run the intake statement; return (id, district code and name, due_at, route) or None.

    The statement also makes the writes the features above owe every new request (their
    companions), so that nothing more is said to the database before the commit. The
    request is its row of the statement's JSON input (intake_sql.INPUT_COLUMNS).
    """
    answers = validate_attributes(st, new.attributes or {})
    due_at = compute_due_at(requested_at, st)
    row: dict[str, Any] = {
        "lat": new.lat,
        "long": new.long,
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
        "attributes": answers,
        "requested_at": requested_at.isoformat(),
        "due_at": due_at.isoformat(),
        "actor_id": actor_id,
        "address_id": (new.address_id or "").strip()[:100],
        "device_id": (new.device_id or "").strip()[:200],
        "account_id": (new.account_id or "").strip()[:200],
        "media_url": (new.media_url or "").strip(),
        "source_url": (new.source_url or "").strip()[:2000],
        "event_data": {"channel": submission.channel, "department": st.department_code},
    }
    for companion in companions.registered():
        row.update(companion.params(submission))
    with companions.Wake(alone, row) as wake:
        stored = intake_batch.store(
            row, intake_statement, {"district_kind": routing_kind()}, alone=alone, wake=wake.sends
        )
        if stored is None:
            return None
        wake.stored()
    return stored[0], stored[1], stored[2], due_at, _Routed(stored[3], stored[4], stored[5])


def intake_statement(wake: bool) -> TextClause:
    """Return the statement that stores a batch of requests and their companions' rows.

    With `wake`, each companion that owes the worker work also sends its NOTIFY (see
    companions.statement); without, the rows wait for a wake-up already on its way.
    """
    return companions.statement(intake_ctes, INPUT_COLUMNS, INTAKE_SELECT, wake=wake)

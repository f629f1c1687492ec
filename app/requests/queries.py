"""Reading requests: one by number, what the public sees, staff search.

A department's work queue is in app/requests/queue.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, NamedTuple

from sqlalchemy import and_, func, literal, or_, select
from sqlalchemy.orm import lazyload

from app.core.errors import NotFound
from app.core.prepared import plan_for_each_value
from app.extensions import db
from app.media.models import Photo
from app.requests.models import PHONE_KEY_DIGITS, RequestEvent, ServiceRequest, phone_key

SEARCH_PAGE_SIZE = 50
#: a search counts its matches only this far past the page it shows: a common word matches
#: a tenth of all requests, and counting them all cost most of a second at 5 million
SEARCH_COUNT_CAP = 500
#: a query of at least this many digits is also tried as a phone number
MIN_PHONE_DIGITS = 7
#: phone numbers compare on their last 10 digits, so "+1 617 555 0199" = "(617) 555-0199"
PHONE_DIGITS_COMPARED = 10
_PHONE_LIKE = re.compile(r"#?[\d\s().+\-]+")


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


def public_events(sr: ServiceRequest) -> list[RequestEvent]:
    """Return the events a resident may see, oldest first."""
    return [e for e in sr.events if e.public]


def public_photos(sr: ServiceRequest) -> list[tuple[int, str]]:
    """Return (id, kind) of the photos the public may see: the report's, then each fix's and
    each public note's, in the order of the history."""
    return request_photos(sr, private=False)


def request_photos(sr: ServiceRequest, *, private: bool) -> list[tuple[int, str]]:
    """Return (id, kind) of a request's photos; with `private`, internal notes' too (staff)."""
    report = db.session.scalars(
        select(Photo.id).where(Photo.request_id == sr.id, Photo.kind == "report").order_by(Photo.id)
    )
    events = (
        (e.public, (e.data or {}).get("photo_id"), (e.data or {}).get("photo_ids"))
        for e in sr.events
    )
    return photo_order(report, events, private=private)


def photo_order(
    report_ids: Iterable[int], events: Iterable[tuple[bool, Any, Any]], *, private: bool
) -> list[tuple[int, str]]:
    """Return (id, kind) of a request's photos in the one order every page shows them.

    The report's photos first, then, in the order of the history (`events`: each event's
    public flag and its data's photo_id and photo_ids), each fix's ("after") and each
    note's ("note", or "internal" for an internal note: only with `private`).
    """
    photos = [(pid, "report") for pid in report_ids]
    for public, photo_id, photo_ids in events:
        if not (public or private):
            continue
        if photo_id:
            photos.append((int(photo_id), "after"))
        kind = "note" if public else "internal"
        photos += [(int(pid), kind) for pid in photo_ids or []]
    return list(dict.fromkeys(photos))


def public_photo_ids(sr: ServiceRequest) -> list[int]:
    """Return the ids of the photos the public may see, report first."""
    return [pid for pid, _ in public_photos(sr)]


def phone_digits(value: str) -> str:
    """Return the digits of a phone number that searches compare: at most the last 10."""
    return re.sub(r"\D", "", value)[-PHONE_DIGITS_COMPARED:]


def phone_condition(value: str) -> Any:
    """Return the condition "the reporter's phone is this number", or None for too few digits.

    Digits compare on the last 10 of each side, so punctuation and a leading country code do
    not matter, and 7 digits find the numbers that end with them.
    """
    digits = phone_digits(value)
    if len(digits) < MIN_PHONE_DIGITS:
        return None
    stored = func.regexp_replace(ServiceRequest.reporter_phone, r"\D", "", "g")
    return and_(
        # the indexed last digits narrow the rows; the whole comparison decides
        phone_key(ServiceRequest.reporter_phone) == digits[-PHONE_KEY_DIGITS:],
        func.right(stored, len(digits)) == digits,
    )


def email_condition(value: str) -> Any:
    """Return the condition "the reporter's email is this address", whatever its case."""
    return func.lower(ServiceRequest.reporter_email) == value.strip().lower()


def match_conditions(q: str) -> tuple[Any, int | None]:
    """Return the condition a staff search query `q` sets, and the request number it names.

    The condition is None for a blank query; search_requests says what matches what. A
    search by words also has the transaction's statements planned for their patterns
    (core.prepared.plan_for_each_value): a plan made once for any pattern reads the whole
    trigram index for a common word.
    """
    conditions: list[Any] = []
    exact_id: int | None = None
    q = q.strip()
    if "@" in q:
        conditions.append(email_condition(q))
    elif _PHONE_LIKE.fullmatch(q):
        number = q.removeprefix("#")
        if number.isdigit() and len(number) <= 18:
            exact_id = int(number)
            conditions.append(ServiceRequest.id == exact_id)
        phone = phone_condition(q)
        if phone is not None:
            conditions.append(phone)
    if q and not conditions:
        plan_for_each_value()
        # a word has no space, so it is in "description address" exactly when it is in one
        # of the two: each column's trigram index can then find it
        conditions.append(
            and_(
                *(
                    or_(
                        ServiceRequest.description.ilike(pattern, escape="\\"),
                        ServiceRequest.address.ilike(pattern, escape="\\"),
                    )
                    for pattern in (f"%{_like_escape(w)}%" for w in q.split()[:12])
                )
            )
        )
    return (or_(*conditions) if conditions else None), exact_id


class SearchPage(NamedTuple):
    """A page of a staff search, and how many requests match."""

    items: list[ServiceRequest]
    total: int
    #: the total is a lower bound: more requests match than were counted
    more: bool


def search_requests(
    q: str,
    *,
    status: str = "",
    department_id: int | None = None,
    page: int = 1,
    page_size: int = SEARCH_PAGE_SIZE,
) -> SearchPage:
    """Find requests by number, reporter email or phone, or words; newest first.

    A query with "@" is an email (case-insensitive, whole address). A query of digits and
    phone punctuation is a request number (digits only) and, with 7 digits or more, a phone
    number: digits compare, on the last 10 of each, so a leading country code on either
    side does not matter and 7 digits find the numbers that end with them. Anything else
    is words that must all appear in the description or the address.

    The total is exact up to SEARCH_COUNT_CAP matches past the page's first; beyond that it
    is that many, and `more` says there are more (the next pages count further).
    """
    condition, exact_id = match_conditions(q)
    conditions: list[Any] = [] if condition is None else [condition]
    if status == "open":
        conditions.append(ServiceRequest.status != "closed")
    elif status:
        conditions.append(ServiceRequest.status == status)
    if department_id is not None:
        conditions.append(ServiceRequest.department_id == department_id)
    offset = (max(page, 1) - 1) * page_size
    total, more = count_up_to(conditions, SEARCH_COUNT_CAP, offset=offset, page_size=page_size)
    order: list[Any] = [ServiceRequest.requested_at.desc(), ServiceRequest.id.desc()]
    if exact_id is not None:
        order.insert(0, (ServiceRequest.id == exact_id).desc())
    items = db.session.scalars(
        select(ServiceRequest)
        .options(lazyload(ServiceRequest.events))
        .where(*conditions)
        .order_by(*order)
        .limit(page_size)
        .offset(offset)
    )
    return SearchPage(list(items), total, more)


def count_up_to(
    conditions: list[Any], cap: int, *, offset: int = 0, page_size: int = 0
) -> tuple[int, bool]:
    """Count the requests that meet `conditions`, up to `cap` past a page's first.

    `offset` is the page's first row; the count goes at least one past the page, so that a
    next page is known. Return the count and whether there are more: one row more than the
    count tells that without reading them all, where a list of every request with a common
    word, or a department's whole backlog, would take most of a second to count.
    """
    up_to = offset + max(cap, page_size + 1)
    found = select(literal(1)).select_from(ServiceRequest).where(*conditions).limit(up_to + 1)
    counted = db.session.scalar(select(func.count()).select_from(found.subquery())) or 0
    return min(counted, up_to), counted > up_to


def _like_escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

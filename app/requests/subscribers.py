"""Who hears when a request closes: its reporter, and the subscribers merged duplicates brought.

A subscriber row names the request whose reporter it is (`from_request_id`), so that the
closure notice can say "your request N" in the number that person knows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert

from app.extensions import db
from app.requests.models import RequestSubscriber, ServiceRequest


@dataclass(frozen=True)
class Recipient:
    email: str
    #: the request this person reported, when it is not the one closing (a merged duplicate)
    own_request_id: int | None = None
    #: the language of this person's messages
    language: str = "en"


def recipients(sr: ServiceRequest) -> list[Recipient]:
    """Return everyone `sr` emails, reporter first, each address once.

    The reporter is among them when they chose news by email (not only by text, or none).
    """
    found: dict[str, Recipient] = {}
    if sr.reporter_email.strip() and sr.notify in ("email", "both"):
        email = sr.reporter_email.strip()
        found[email.lower()] = Recipient(email, language=sr.language)
    rows = db.session.execute(
        select(
            RequestSubscriber.email, RequestSubscriber.from_request_id, RequestSubscriber.language
        )
        .where(RequestSubscriber.request_id == sr.id)
        .order_by(RequestSubscriber.id)
    )
    for email, from_request_id, language in rows:
        found.setdefault(email.lower(), Recipient(email, from_request_id, language))
    return list(found.values())


@dataclass(frozen=True)
class Texted:
    #: E.164, as intake stored it
    phone: str
    language: str
    #: the request this person reported, when it is not `sr` (a merged duplicate)
    own_request_id: int | None = None


def texted(sr: ServiceRequest) -> list[Texted]:
    """Return everyone `sr` texts: its reporter and the reporters of requests merged into it
    who chose text messages, each number once, the request's own reporter first."""
    ids = [sr.id, *sorted(_descendants(sr.id))]
    rows = db.session.execute(
        select(ServiceRequest.id, ServiceRequest.reporter_phone, ServiceRequest.language)
        .where(
            ServiceRequest.id.in_(ids),
            ServiceRequest.notify.in_(("sms", "both")),
            func.btrim(ServiceRequest.reporter_phone) != "",
        )
        .order_by(ServiceRequest.id != sr.id, ServiceRequest.id)
    )
    found: dict[str, Texted] = {}
    for request_id, phone, language in rows:
        own = request_id if request_id != sr.id else None
        found.setdefault(phone.strip(), Texted(phone.strip(), language, own))
    return list(found.values())


def count(request_id: int) -> int:
    """Return how many subscribers a request has (its reporter not counted)."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(RequestSubscriber)
            .where(RequestSubscriber.request_id == request_id)
        )
        or 0
    )


def carry_over(duplicate: ServiceRequest, into: ServiceRequest) -> int:
    """Subscribe the duplicate's reporter and subscribers to `into`; return how many were added.

    Addresses `into` already notifies (its reporter, its subscribers) are skipped, whatever
    their case, so that nobody gets the same notice twice.
    """
    known = {r.email.lower() for r in recipients(into)}
    added = 0
    for person in recipients(duplicate):
        if person.email.lower() in known:
            continue
        known.add(person.email.lower())
        stmt = (
            insert(RequestSubscriber)
            .values(
                request_id=into.id,
                email=person.email,
                source="duplicate",
                from_request_id=person.own_request_id or duplicate.id,
                language=person.language,
            )
            .on_conflict_do_nothing(constraint="uq_request_subscribers_request_id_email")
            .returning(RequestSubscriber.id)
        )
        added += db.session.execute(stmt).scalar_one_or_none() is not None
    return added


def follow(request_id: int, email: str, language: str = "en") -> bool:
    """Subscribe an address to a request's news (a confirmed follower); return if it is new."""
    if email.strip().lower() in {
        r.email.lower() for r in recipients(db.session.get_one(ServiceRequest, request_id))
    }:
        return False
    stmt = (
        insert(RequestSubscriber)
        .values(request_id=request_id, email=email.strip(), source="follow", language=language)
        .on_conflict_do_nothing(constraint="uq_request_subscribers_request_id_email")
        .returning(RequestSubscriber.id)
    )
    return db.session.execute(stmt).scalar_one_or_none() is not None


def unfollow(request_id: int, email: str) -> int:
    """Remove an address's subscription to a request, whatever its case; return how many."""
    result = db.session.execute(
        delete(RequestSubscriber).where(
            RequestSubscriber.request_id == request_id,
            func.lower(RequestSubscriber.email) == email.strip().lower(),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def detach(sr: ServiceRequest) -> int | None:
    """Undo a merge when its duplicate is reopened; return the request it was merged into.

    The reopened request tracks its own problem again: it leaves its parent, and the
    subscriptions it (and the duplicates merged into it) brought up the chain are removed.
    """
    parent_id = sr.parent_id
    if parent_id is None:
        return None
    brought = {sr.id, *_descendants(sr.id)}
    ancestors = _ancestors(parent_id)
    db.session.execute(
        delete(RequestSubscriber).where(
            RequestSubscriber.request_id.in_(ancestors),
            RequestSubscriber.source == "duplicate",
            RequestSubscriber.from_request_id.in_(brought),
        )
    )
    sr.parent_id = None
    return parent_id


def root_of(request_id: int) -> int:
    """Return the request at the end of a chain of merges that starts at `request_id`."""
    return _ancestors(request_id)[-1]


def children(request_id: int) -> list[int]:
    """Return the ids of the requests merged into this one, oldest first."""
    return list(
        db.session.scalars(
            select(ServiceRequest.id)
            .where(ServiceRequest.parent_id == request_id)
            .order_by(ServiceRequest.id)
        )
    )


def _ancestors(request_id: int) -> list[int]:
    """Return the request and the requests it was merged into, in order, up to the root."""
    chain = [request_id]
    while True:
        parent = db.session.scalar(
            select(ServiceRequest.parent_id).where(ServiceRequest.id == chain[-1])
        )
        # merges only go into open requests, so a chain never loops; the check is a guard
        if parent is None or parent in chain:
            return chain
        chain.append(parent)


def _descendants(request_id: int) -> set[int]:
    found: set[int] = set()
    frontier: Iterable[int] = [request_id]
    while frontier:
        frontier = [
            i
            for i in db.session.scalars(
                select(ServiceRequest.id).where(ServiceRequest.parent_id.in_(list(frontier)))
            )
            if i not in found
        ]
        found.update(frontier)
    return found

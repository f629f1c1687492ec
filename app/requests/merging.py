"""Merge a duplicate into the request that tracks the same problem.

The duplicate closes as `duplicate`, links to the original (parent_id), and its reporter and
subscribers are subscribed to the original: when the original closes, every one of them
gets the closure notice with the crew's photo. At the merge itself the duplicate's people
are told that their report was merged (the notifications feature sends a 'merged' notice for
a duplicate closing with a parent), never that it was fixed.

Rules, each refused with 409 and nothing changed:
- a request is never merged into itself;
- only an open request is merged, and only into an open one. A merged request is closed, so
  a merge into it is refused with the number of the request it was merged into (its root),
  rather than followed silently: staff choose the original knowingly;
- a request a crew is on (assigned, in progress, or on hold from either) is not merged away,
  since the crew's completion would then close nothing and its photo reach nobody: merge the
  other request into it instead, or call the crew off first.
Requests of different types may be merged: a triage request may well duplicate a pothole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from app.core.errors import Conflict
from app.extensions import db
from app.requests import lifecycle, subscribers
from app.requests.models import RequestEvent, ServiceRequest
from app.requests.queries import get_request
from app.requests.words import closure_word

#: statuses in which a crew is working on a request
CREW_STATUSES = frozenset({"assigned", "in_progress"})


@dataclass(frozen=True)
class Merged:
    """The outcome of a merge: the duplicate (now closed), the original, and who was added."""

    request: ServiceRequest
    into: ServiceRequest
    subscribed: int


def merge(
    request_id: int,
    into_id: int,
    *,
    actor_id: int | None,
    note: str = "",
    authorize: Callable[[ServiceRequest], None] | None = None,
) -> Merged:
    """Close request `request_id` as a duplicate of `into_id` and subscribe its people to it.

    Both rows are locked in id order, so that two merges of the same pair, in either
    direction, wait for each other instead of deadlocking, and the second sees the first.
    `authorize`, if given, is called with the locked duplicate before anything is checked.

    :raises NotFound: either request does not exist (404).
    :raises Conflict: the same request, a closed one on either side, or one a crew is on (409).
    :raises DomainError: the note is too long (400).
    """
    lifecycle.check_note_length(note)
    locked = {i: get_request(i, for_update=True) for i in sorted({request_id, into_id})}
    for row in locked.values():
        db.session.refresh(row)  # the lock is taken: read what the last commit left
    sr, into = locked[request_id], locked[into_id]
    if authorize is not None:
        authorize(sr)
    check_mergeable(sr, into)

    note = note.strip()
    sr.parent_id = into.id
    added = subscribers.carry_over(sr, into)
    lifecycle.record_event(
        into,
        "merged",
        actor_id=actor_id,
        note=f"Request {sr.id} reported the same problem and was merged into this one.",
        data={"from": sr.id, "subscribed": added},
    )
    lifecycle.record_event(
        sr,
        "merged",
        actor_id=actor_id,
        note=f"Merged into request {into.id}.",
        data={"into": into.id, "subscribed": added},
    )
    closing_note = f"Merged into request {into.id}" + (f": {note}" if note else ".")
    lifecycle.close(sr, reason="duplicate", actor_id=actor_id, note=closing_note)
    return Merged(sr, into, added)


def check_mergeable(sr: ServiceRequest, into: ServiceRequest) -> None:
    """Refuse a merge of `sr` into `into` that the rules above forbid.

    :raises Conflict: why not, in words staff can act on (409).
    """
    if sr.id == into.id:
        raise Conflict(
            f"Request {sr.id} cannot be merged into itself: choose the request that tracks "
            "the same problem.",
            field="into",
        )
    if not sr.is_open:
        if sr.parent_id is not None:
            raise Conflict(f"Request {sr.id} was already merged into request {sr.parent_id}.")
        raise Conflict(
            f"Request {sr.id} is already closed ({closure_word(sr.closure_reason or '')}); "
            "only an open request can be merged."
        )
    if not into.is_open:
        if into.parent_id is not None:
            root = subscribers.root_of(into.id)
            if root == sr.id:
                raise Conflict(
                    f"Request {into.id} was already merged into request {sr.id}: they are one.",
                    field="into",
                )
            raise Conflict(
                f"Request {into.id} was itself merged into request {root}: "
                f"merge into request {root} instead.",
                field="into",
                root_id=root,
            )
        raise Conflict(
            f"Request {into.id} is closed: merge into an open request, or reopen "
            f"request {into.id} first.",
            field="into",
        )
    working = crew_status(sr)
    if working is not None:
        raise Conflict(
            f"A crew is on request {sr.id} ({working.replace('_', ' ')}): merge request "
            f"{into.id} into it instead, or call the crew off first."
        )


def crew_status(sr: ServiceRequest) -> str | None:
    """Return the status that says a crew is on the request, or None when none is."""
    status = sr.status
    if status == "on_hold":  # a hold keeps the crew's order open: look where it came from
        status = (
            db.session.scalar(
                select(RequestEvent.from_status)
                .where(RequestEvent.request_id == sr.id, RequestEvent.kind == "held")
                .order_by(RequestEvent.id.desc())
                .limit(1)
            )
            or ""
        )
    return status if status in CREW_STATUSES else None

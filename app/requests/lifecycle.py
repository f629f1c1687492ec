"""Every status change of a request, enforced in one place and recorded as an event.

Verbs validate, write, flush, record an event and send signals. They never commit: the
caller (a view, a job, a command) owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.core import app_object
from app.core.clock import utcnow
from app.core.errors import Conflict, DomainError
from app.extensions import db
from app.media import service as media
from app.requests import signals, subscribers
from app.requests.models import (
    CLOSURE_REASONS,
    HOLD_REASONS,
    STATUSES,
    RequestEvent,
    ServiceRequest,
)
from app.requests.notes import check_note_length, note_required

#: every status change allowed, from → to. Closing and reopening have verbs of their own.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"acknowledged", "assigned", "on_hold"}),
    "acknowledged": frozenset({"assigned", "in_progress", "on_hold"}),
    "assigned": frozenset({"acknowledged", "in_progress", "on_hold"}),
    "in_progress": frozenset({"acknowledged", "assigned", "on_hold"}),
    "on_hold": frozenset({"acknowledged", "assigned", "in_progress"}),
    "closed": frozenset(),
}


def _said(status: str) -> str:
    # staff messages name the status code itself ("in progress"), as the API returns it
    return status.replace("_", " ")


def record_event(
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
    """Append an event to the request's history (no status change; verbs that move use it)."""
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
            f"Request {sr.id} is {_said(sr.status)}; it cannot become {_said(to)}. "
            f"{allowed_moves(sr.status)}"
        )
    check_note_length(note)
    from_status = sr.status
    moment = at or utcnow()
    if from_status == "on_hold":
        data = {**(data or {}), **_end_hold(sr, moment)}
    elif to == "on_hold":  # the clock stops now; the row's check keeps both in step
        sr.held_since = moment
        sr.hold_reason = (data or {}).get("reason", "other")
    sr.status = to
    event = record_event(
        sr,
        kind,
        actor_id=actor_id,
        from_status=from_status,
        to_status=to,
        note=note,
        public=public,
        data=data,
        at=moment,
    )
    if to != "new" and sr.acknowledged_at is None:
        # any staff action on a new request is its acknowledgement (time-to-acknowledge KPI)
        sr.acknowledged_at = event.at
    db.session.flush()
    signals.request_status_changed.send(
        app_object(),
        request_id=sr.id,
        from_status=from_status,
        to_status=to,
        kind=kind,
        event_id=event.id,
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


def put_on_hold(
    sr: ServiceRequest, *, actor_id: int | None, note: str = "", reason: str = "other"
) -> RequestEvent:
    """Pause a request and its SLA clock (waiting on the resident, materials, weather…).

    :raises DomainError: an unknown reason (400).
    :raises Conflict: the request is closed or already on hold (409).
    """
    if reason not in HOLD_REASONS:
        raise DomainError(
            f"Unknown hold reason {reason!r}; use one of {', '.join(HOLD_REASONS)}.",
            field="reason",
        )
    return _move(sr, "on_hold", kind="held", actor_id=actor_id, note=note, data={"reason": reason})


def resume(sr: ServiceRequest, *, actor_id: int | None, note: str = "") -> RequestEvent:
    """End a hold: the request returns to where it was and its due time moves by the pause.

    :raises Conflict: the request is not on hold (409).
    """
    if sr.status != "on_hold":
        raise Conflict(
            f"Request {sr.id} is {_said(sr.status)}, not on hold: there is nothing to resume."
        )
    held = db.session.scalar(
        select(RequestEvent.from_status)
        .where(RequestEvent.request_id == sr.id, RequestEvent.kind == "held")
        .order_by(RequestEvent.id.desc())
        .limit(1)
    )
    # a request held while new has been seen by then: it resumes as acknowledged
    back_to = held if held in TRANSITIONS["on_hold"] else "acknowledged"
    return _move(sr, back_to, kind="resumed", actor_id=actor_id, note=note)


def _end_hold(sr: ServiceRequest, moment: datetime) -> dict[str, Any]:
    """Stop the pause: add it to the request's held time and move its due time by it."""
    paused = max(int((moment - sr.held_since).total_seconds()), 0) if sr.held_since else 0
    sr.held_seconds = (sr.held_seconds or 0) + paused
    sr.due_at = sr.due_at + timedelta(seconds=paused)
    sr.held_since = None
    sr.hold_reason = None
    return {"held_seconds": paused, "due_at": sr.due_at.isoformat()}


def allowed_moves(status: str) -> str:
    """Say in a sentence where a request can go from `status` (for 409 messages)."""
    moves = sorted(TRANSITIONS[status], key=STATUSES.index)
    if status == "closed":
        return "A closed request can only be reopened."
    words = [_said(m) for m in moves]
    listed = ", ".join(words[:-1]) + f" or {words[-1]}" if len(words) > 1 else words[0]
    return f"From {_said(status)} it can become {listed}, or be closed."


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
    if note_required(reason) and not note.strip():
        raise DomainError(
            "Write a note unless the reason is fixed: say why, the reporter reads it.",
            field="note",
        )
    check_note_length(note)
    from_status = sr.status
    moment = at or utcnow()
    data: dict[str, Any] = {"reason": reason}
    if from_status == "on_hold":  # closing ends the pause: the clock stops counting it
        data.update(_end_hold(sr, moment))
    if photo_id:
        data["photo_id"] = photo_id
    if work_order_id:
        data["work_order_id"] = work_order_id
    event = record_event(
        sr,
        "closed",
        actor_id=actor_id,
        from_status=from_status,
        to_status="closed",
        note=note,
        data=data,
        at=moment,
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
        app,
        request_id=sr.id,
        from_status=from_status,
        to_status="closed",
        kind="closed",
        event_id=event.id,
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
    check_note_length(note)
    data: dict[str, Any] = {"previous_reason": sr.closure_reason}
    # a merged duplicate reopened tracks its own problem again, apart from the original
    unmerged_from = subscribers.detach(sr)
    if unmerged_from is not None:
        data["unmerged_from"] = unmerged_from
    event = record_event(
        sr,
        "reopened",
        actor_id=actor_id,
        from_status="closed",
        to_status="acknowledged",
        note=note,
        data=data,
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
        kind="reopened",
        event_id=event.id,
    )
    return event


def add_note(
    sr: ServiceRequest,
    *,
    actor_id: int | None,
    note: str,
    public: bool,
    photos: Sequence[media.ValidatedPhoto] = (),
) -> RequestEvent:
    """Add a public or internal note, with photos as public as the note, to the history.

    :raises DomainError: an empty or overlong note, or too many photos (400).
    """
    if not note.strip():
        raise DomainError("The note is empty.", field="note")
    check_note_length(note)
    if len(photos) > media.max_photos():
        raise DomainError(
            f"Send at most {media.max_photos()} photos with a note; this one has {len(photos)}.",
            field="photo",
        )
    # an internal note's photos are never served at the public photo URLs
    kind = "note" if public else "internal"
    photo_ids = [media.attach_photo(p, kind=kind, request_id=sr.id).id for p in photos]
    event = record_event(
        sr,
        "note",
        actor_id=actor_id,
        note=note.strip(),
        public=public,
        data={"photo_ids": photo_ids} if photo_ids else None,
    )
    db.session.flush()
    return event

"""The words of the status updates (acknowledged, assigned, on hold, …) for their templates."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.notifications import follow, survey, wording
from app.notifications.models import Outbox
from app.requests.models import ServiceRequest
from app.requests.words import hold_word

#: the history events residents hear about, and the outbox event (template) each becomes
STATUS_EVENTS = {
    "acknowledged": "acknowledged",
    "assigned": "assigned",
    "held": "on_hold",
    "resumed": "resumed",
    "reopened": "reopened",
}
UPDATE_EVENTS = frozenset({*STATUS_EVENTS.values(), "transferred"})
#: notices that say where a request stands now, and so make an older update moot
_NEWER_NEWS = (*UPDATE_EVENTS, "closed", "merged")


def superseded(row: Outbox) -> bool:
    """Tell whether news owed or sent since makes this notice moot.

    A request assigned and closed before the worker got to it owes its reporter the
    closure, not a stale "a crew is scheduled" as well. Receipts and closures always go.
    """
    if (
        row.request_id is not None
        and row.event != follow.FOLLOW_EVENT
        and follow.is_unsubscribed(row.request_id, row.recipient)
    ):
        return True  # stopped by the link in an earlier message
    if row.event == survey.SURVEY_EVENT:
        # reopened (or reopened and closed again) since: this question is about the past
        return survey.is_moot(row.request_id or 0, int(row.payload["closed_event_id"]))
    if row.event not in UPDATE_EVENTS:
        return False
    newer = db.session.scalar(
        select(Outbox.id)
        .where(
            Outbox.request_id == row.request_id,
            Outbox.recipient == row.recipient,
            Outbox.event.in_(_NEWER_NEWS),
            Outbox.id > row.id,
        )
        .limit(1)
    )
    return newer is not None


def update_context(row: Outbox, sr: ServiceRequest, context: dict[str, Any]) -> str:
    """Fill in a status update's template context; return its subject."""
    payload = row.payload
    own = payload.get("own_request_id")
    number = own or sr.id
    department = payload.get("department") or sr.department.name
    context.update(
        note=(payload.get("note") or "").strip(),
        category=sr.service_type.name,
        department=department,
        due_at=sr.due_at,
        merged_from=own if own and own != sr.id else None,
    )
    if row.event not in UPDATE_EVENTS:
        raise ValueError(f"outbox row {row.id} has an unknown event {row.event!r}")
    reason = ""
    if row.event == "on_hold":
        context["hold_reason"] = hold_word(payload.get("reason") or "other", context["lang"])
        reason = context["hold_reason"].lower()
    return wording.subject(
        row.event, context["lang"], n=number, department=department, reason=reason
    )

"""Transfer ("not ours"): move a request to another service type, and so to its department.

The resident's wait is kept true: requested_at never changes, and the new due time is the
new type's SLA counted from it, plus the time the request has already spent on hold.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, text

from app.core import app_object
from app.core.errors import Conflict, DomainError, NotFound
from app.extensions import db
from app.org.models import Crew, Department
from app.requests import signals
from app.requests.catalogue import compute_due_at
from app.requests.lifecycle import record_event
from app.requests.models import RequestEvent, ServiceRequest, ServiceType
from app.requests.notes import check_note_length
from app.requests.routing import route_for

# requests sits below workorders and may not import it: its tables are read here directly,
# as the one fact a transfer needs of them. Work-order creation locks the request rows
# FOR UPDATE, as the caller of transfer does, so the answer cannot go stale before commit.
_OPEN_WORK_ORDERS = text(
    """
    SELECT wo.id FROM work_order_requests wor JOIN work_orders wo ON wo.id = wor.work_order_id
    WHERE wor.request_id = :request_id AND wo.status IN ('assigned', 'in_progress')
    ORDER BY wo.id
    """
)


class NoteRequired(DomainError):
    """A transfer without a word of why: the new department needs one (422)."""

    status_code = 422
    code = "unprocessable"


def open_work_orders(request_id: int) -> list[int]:
    """Return the ids of the open (assigned or started) work orders the request is on."""
    return list(db.session.scalars(_OPEN_WORK_ORDERS, {"request_id": request_id}))


def transfer(
    sr: ServiceRequest, *, service_code: str, note: str, actor_id: int | None
) -> RequestEvent:
    """Move an open request to another service type, its department, routing rule and SLA.

    Lock the request first (get_request(..., for_update=True)): the checks below must hold
    until the caller commits.

    :raises NoteRequired: no note (422).
    :raises DomainError: too long a note (400).
    :raises NotFound: no active type has this code (404).
    :raises Conflict: the request is closed, already of that type, or on an open work
        order (409).
    """
    note = (note or "").strip()
    if not note:
        raise NoteRequired(
            "Say why the request is transferred: the new department reads the note.",
            field="note",
        )
    check_note_length(note)
    if not sr.is_open:
        raise Conflict(
            f"Request {sr.id} is closed: reopen it before moving it to another service type."
        )
    code = (service_code or "").strip()
    new_type = db.session.scalar(
        select(ServiceType).where(ServiceType.code == code, ServiceType.active.is_(True))
    )
    if new_type is None:
        raise NotFound(
            f"Unknown service code {code!r}: GET /api/v1/services lists the valid codes.",
            field="service_code",
        )
    if new_type.id == sr.service_type_id:
        raise Conflict(
            f"Request {sr.id} is already a {new_type.name} request: choose another type.",
            field="service_code",
        )
    orders = open_work_orders(sr.id)
    if orders:
        listed = ", ".join(map(str, orders))
        raise Conflict(
            f"Request {sr.id} is on open work order {listed}: call the crew off (cancel the "
            "order) before transferring it, so no crew works another department's request.",
            work_order_ids=orders,
        )

    old_type, old_department, old_due = sr.service_type, sr.department, sr.due_at
    route = route_for(new_type, sr.district_id)
    department = db.session.get_one(Department, route.department_id)
    sr.service_type = new_type
    sr.department = department
    sr.crew_id = route.crew_id
    # the clock restarts from the resident's own request, moved on by the pauses it had;
    # a hold still running is added when it ends, as for any hold
    sr.due_at = compute_due_at(sr.requested_at + timedelta(seconds=sr.held_seconds), new_type)
    crew = db.session.get(Crew, route.crew_id) if route.crew_id else None
    event = record_event(
        sr,
        "transferred",
        actor_id=actor_id,
        note=note,
        public=False,
        data={
            "from": {"service_code": old_type.code, "department": old_department.code},
            "to": {"service_code": new_type.code, "department": department.code},
            "routing_rule_id": route.rule_id,
            "crew_id": route.crew_id,
            "crew": crew.name if crew else None,
            "previous_due_at": old_due.isoformat(),
            "due_at": sr.due_at.isoformat(),
        },
    )
    db.session.flush()
    signals.request_transferred.send(
        app_object(),
        request_id=sr.id,
        event_id=event.id,
        department_id=department.id,
        previous_department_id=old_department.id,
    )
    return event

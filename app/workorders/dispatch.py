"""Dispatch: sending a crew to requests, and calling an order off.

Verbs validate, write, flush and move the linked requests through requests.service, which
records their events and sends their signals. They never commit: the caller owns the
transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import select

from app.auth.models import User
from app.core.clock import utcnow
from app.core.errors import Conflict, DomainError, Forbidden, NotFound
from app.extensions import db
from app.org import service as org
from app.requests import service as requests_service
from app.requests.models import MAX_TEXT, ServiceRequest
from app.workorders import permissions
from app.workorders.models import PRIORITIES, WorkOrder
from app.workorders.queries import OPEN_STATUSES, open_orders_for_requests

#: one order is one crew's trip; hundreds of stops means a wrong selection, not a plan
MAX_REQUESTS_PER_ORDER = 100


# ---------------------------------------------------------------------------------------------
# helpers shared with fieldwork


def clean_text(value: str | None, field: str, what: str) -> str:
    """Strip a text a person wrote and refuse it over MAX_TEXT.

    :raises DomainError: the text is too long (400).
    """
    text = (value or "").strip()
    if len(text) > MAX_TEXT:
        raise DomainError(
            f"The {what} is {len(text)} characters long; the limit is {MAX_TEXT}.", field=field
        )
    return text


def lock_request(request_id: int) -> ServiceRequest:
    """Lock a request's row and return it as the last commit left it."""
    sr = requests_service.get_request(request_id, for_update=True)
    db.session.refresh(sr)  # the identity map may hold what was read before the lock
    return sr


def locked_requests(wo: WorkOrder) -> list[ServiceRequest]:
    """Lock the order's requests in id order and reload them as last committed.

    Every verb that locks several requests takes them in id order, so that two verbs on
    overlapping requests wait for each other instead of deadlocking.
    """
    return [lock_request(sr.id) for sr in sorted(wo.requests, key=lambda sr: sr.id)]


def _check_ids(request_ids: Sequence[object]) -> list[int]:
    if not request_ids:
        raise DomainError("Choose at least one request for the work order.", field="request_ids")
    ids: list[int] = []
    for raw in request_ids:
        if isinstance(raw, bool) or not isinstance(raw, int) or raw <= 0:
            raise DomainError(
                f"{raw!r} is not a request number: send positive integers.", field="request_ids"
            )
        ids.append(raw)
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise DomainError(
            f"Request {', '.join(map(str, dupes))} is listed more than once.", field="request_ids"
        )
    if len(ids) > MAX_REQUESTS_PER_ORDER:
        raise DomainError(
            f"A work order can hold at most {MAX_REQUESTS_PER_ORDER} requests; "
            f"{len(ids)} were sent.",
            field="request_ids",
        )
    return ids


def _order_label(wo_ids: Iterable[int]) -> str:
    return ", ".join(f"#{i}" for i in sorted(set(wo_ids)))


# ---------------------------------------------------------------------------------------------
# transitions


def create_work_order(
    request_ids: Sequence[int],
    crew_id: int,
    *,
    actor: User,
    instructions: str = "",
    priority: str = "normal",
    scheduled_for: date | None = None,
) -> WorkOrder:
    """Send a crew to one or more open requests of its department.

    The order is placed at its first request's point, so crews' lists sort by distance.

    :raises DomainError: no ids, duplicates, an inactive crew, a request of another
        department, instructions too long, an unknown priority (400).
    :raises NotFound: the crew or some requests do not exist (404, naming them).
    :raises Forbidden: a dispatcher dispatching for another department (403).
    :raises Conflict: a request is closed or already on an open work order (409).
    """
    ids = _check_ids(request_ids)
    instructions = clean_text(instructions, "instructions", "instructions")
    if priority not in PRIORITIES:
        raise DomainError(
            f"Unknown priority {priority!r}; use one of {', '.join(PRIORITIES)}.", field="priority"
        )
    if isinstance(crew_id, bool) or not isinstance(crew_id, int):
        raise DomainError("Choose a crew.", field="crew_id")
    crew = org.get_crew(crew_id)
    permissions.check_can_dispatch(
        actor,
        crew.department_id,
        f"{crew.name} works for {crew.department.name}; you can only dispatch crews of "
        "your own department.",
    )
    if not crew.active:
        raise DomainError(f"{crew.name} is not active; choose another crew.", field="crew_id")

    found = set(db.session.scalars(select(ServiceRequest.id).where(ServiceRequest.id.in_(ids))))
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(
            f"There is no service request {', '.join(map(str, missing))}.",
            field="request_ids",
            missing=missing,
        )
    # Lock in id order so that two dispatchers picking overlapping requests cannot deadlock;
    # the second one waits, then sees the first one's order below.
    srs = [lock_request(i) for i in sorted(ids)]
    closed = [sr.id for sr in srs if not sr.is_open]
    if closed:
        raise Conflict(
            f"Request {', '.join(map(str, closed))} is already closed.", field="request_ids"
        )
    foreign = [sr for sr in srs if sr.department_id != crew.department_id]
    if foreign:
        # a supervisor may dispatch anywhere, so for them this is a wrong pick, not a refusal
        if not all(permissions.can_dispatch(actor, sr.department_id) for sr in foreign):
            raise Forbidden(
                f"Request {', '.join(str(sr.id) for sr in foreign)} belongs to "
                f"{foreign[0].department.name}; you can only dispatch your own department's "
                "requests."
            )
        raise DomainError(
            f"Request {', '.join(str(sr.id) for sr in foreign)} belongs to "
            f"{foreign[0].department.name}, but {crew.name} works for {crew.department.name}.",
            field="request_ids",
        )
    taken = open_orders_for_requests(ids)
    if taken:
        raise Conflict(
            f"Request {', '.join(map(str, sorted(taken)))} is already on open work order "
            f"{_order_label(taken.values())}.",
            field="request_ids",
            work_order_ids=sorted(set(taken.values())),
        )

    now = utcnow()
    wo = WorkOrder(
        department_id=crew.department_id,
        crew_id=crew.id,
        status="assigned",
        instructions=instructions,
        created_by_id=actor.id,
        assigned_at=now,
        priority=priority,
        scheduled_for=scheduled_for,
        location=srs[0].location,
    )
    wo.requests = srs
    db.session.add(wo)
    db.session.flush()
    for sr in srs:
        if sr.status == "assigned":
            # left "assigned" by an order that ended without moving it
            requests_service.return_to_queue(
                sr, actor_id=actor.id, note="Returned to the queue for a new crew."
            )
        requests_service.mark_assigned(
            sr, actor_id=actor.id, work_order_id=wo.id, crew_name=crew.name
        )
    return wo


def cancel(wo: WorkOrder, *, actor: User, reason: str) -> WorkOrder:
    """Call off an open order; its requests go back to the department's queue.

    Its open requests return to "acknowledged", ready to be dispatched again. The reason
    stays internal: residents only see that the request awaits a crew.

    :raises Forbidden: the user may not dispatch for the order's department.
    :raises Conflict: the order is completed or cancelled.
    :raises DomainError: no reason given.
    """
    permissions.check_can_cancel(actor, wo)
    if wo.status not in OPEN_STATUSES:
        raise Conflict(f"Work order {wo.id} is already {wo.status}.")
    reason = clean_text(reason, "reason", "reason")
    if not reason:
        raise DomainError("Say why the work order is cancelled.", field="reason")
    wo.status = "cancelled"
    for sr in locked_requests(wo):
        if sr.status not in ("assigned", "in_progress"):
            continue
        requests_service.return_to_queue(
            sr, actor_id=actor.id, note="Back in the queue: waiting for a crew."
        )
        requests_service.add_note(
            sr, actor_id=actor.id, note=f"Work order #{wo.id} cancelled: {reason}", public=False
        )
    db.session.flush()
    return wo

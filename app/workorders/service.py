"""Domain verbs for crews and work orders: dispatch, start, field close-out, cancellation.

Verbs validate, write, flush and move the linked requests through requests.service, which
records their events and sends their signals. They never commit: the caller owns the
transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from sqlalchemy import func, select

from app.auth.models import User
from app.core.clock import utcnow
from app.core.errors import Conflict, DomainError, Forbidden, NotFound
from app.extensions import db
from app.media import service as media
from app.media.models import Photo
from app.org import service as org
from app.requests import service as requests_service
from app.requests.models import MAX_TEXT, ServiceRequest
from app.workorders import permissions
from app.workorders.models import PRIORITIES, WORK_ORDER_STATUSES, WorkOrder, work_order_requests

OPEN_STATUSES = ("assigned", "in_progress")
#: one order is one crew's trip; hundreds of stops means a wrong selection, not a plan
MAX_REQUESTS_PER_ORDER = 100
RECENT_COMPLETED_DAYS = 7


# ---------------------------------------------------------------------------------------------
# reading


def get_work_order(work_order_id: int, *, for_update: bool = False) -> WorkOrder:
    """Return a work order by id, optionally locking its row until the transaction ends.

    :raises NotFound: there is no such work order.
    """
    stmt = select(WorkOrder).where(WorkOrder.id == work_order_id)
    if for_update:
        stmt = stmt.with_for_update(of=WorkOrder).execution_options(populate_existing=True)
    wo = db.session.scalar(stmt)
    if wo is None:
        raise NotFound(f"There is no work order {work_order_id}.")
    return wo


def open_work_order_counts(crew_ids: Iterable[int]) -> dict[int, int]:
    """Return how many open work orders each crew has (crews without any are absent)."""
    ids = list(crew_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(WorkOrder.crew_id, func.count())
        .where(WorkOrder.crew_id.in_(ids), WorkOrder.status.in_(OPEN_STATUSES))
        .group_by(WorkOrder.crew_id)
    )
    return {crew_id: count for crew_id, count in rows}


def open_orders_for_requests(request_ids: Iterable[int]) -> dict[int, int]:
    """Map each request that is on an open work order to that order's id."""
    ids = list(request_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(work_order_requests.c.request_id, WorkOrder.id)
        .join(WorkOrder, WorkOrder.id == work_order_requests.c.work_order_id)
        .where(
            work_order_requests.c.request_id.in_(ids),
            WorkOrder.status.in_(OPEN_STATUSES),
        )
    )
    return {request_id: wo_id for request_id, wo_id in rows}


def completion_photo_ids(work_order_ids: Iterable[int]) -> dict[int, int]:
    """Map each work order to the id of its latest completion ("after") photo."""
    ids = list(work_order_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Photo.work_order_id, func.max(Photo.id))
        .where(Photo.work_order_id.in_(ids), Photo.kind == "after")
        .group_by(Photo.work_order_id)
    )
    # the IN above never matches NULL; the check is for mypy
    return {wo_id: photo_id for wo_id, photo_id in rows if wo_id is not None}


def list_work_orders(
    *,
    department_id: int | None = None,
    crew_id: int | None = None,
    status: str | None = None,
    open_only: bool = False,
    limit: int = 100,
) -> list[WorkOrder]:
    """Return work orders, open ones first, then the most recently assigned."""
    if status is not None and status not in WORK_ORDER_STATUSES:
        raise DomainError(
            f"Unknown work order status {status!r}; use one of {', '.join(WORK_ORDER_STATUSES)}.",
            field="status",
        )
    stmt = select(WorkOrder)
    if department_id is not None:
        stmt = stmt.where(WorkOrder.department_id == department_id)
    if crew_id is not None:
        stmt = stmt.where(WorkOrder.crew_id == crew_id)
    if status is not None:
        stmt = stmt.where(WorkOrder.status == status)
    if open_only:
        stmt = stmt.where(WorkOrder.status.in_(OPEN_STATUSES))
    is_closed = WorkOrder.status.notin_(OPEN_STATUSES)
    stmt = stmt.order_by(is_closed, WorkOrder.assigned_at.desc(), WorkOrder.id.desc())
    return list(db.session.scalars(stmt.limit(limit)))


def crew_work_orders(
    crew_id: int, *, completed_days: int = RECENT_COMPLETED_DAYS
) -> list[WorkOrder]:
    """Return a crew's open orders (oldest first), then those completed in the last days."""
    open_orders = db.session.scalars(
        select(WorkOrder)
        .where(WorkOrder.crew_id == crew_id, WorkOrder.status.in_(OPEN_STATUSES))
        .order_by(WorkOrder.assigned_at, WorkOrder.id)
    ).all()
    since = utcnow() - timedelta(days=completed_days)
    done = db.session.scalars(
        select(WorkOrder)
        .where(
            WorkOrder.crew_id == crew_id,
            WorkOrder.status == "completed",
            WorkOrder.completed_at >= since,
        )
        .order_by(WorkOrder.completed_at.desc(), WorkOrder.id.desc())
    ).all()
    return [*open_orders, *done]


def photo_required(wo: WorkOrder) -> bool:
    """Tell whether closing this order needs a photo of the finished work."""
    return any(sr.service_type.completion_photo_required for sr in wo.requests)


def _clean_text(value: str | None, field: str, what: str) -> str:
    text = (value or "").strip()
    if len(text) > MAX_TEXT:
        raise DomainError(
            f"The {what} is {len(text)} characters long; the limit is {MAX_TEXT}.", field=field
        )
    return text


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
    instructions = _clean_text(instructions, "instructions", "instructions")
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
    srs = [requests_service.get_request(i, for_update=True) for i in sorted(ids)]
    for sr in srs:
        db.session.refresh(sr)  # the lock is taken; read what the last commit left
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


def start(wo: WorkOrder, *, actor: User) -> WorkOrder:
    """Record that the crew is on site; its open requests become in progress.

    Starting an order already in progress changes nothing, so a retried tap is harmless.

    :raises Forbidden: the user is not on the order's crew nor a dispatcher of it.
    :raises Conflict: the order is completed or cancelled.
    """
    permissions.check_can_work(actor, wo, "start")
    if wo.status == "in_progress":
        return wo
    if wo.status != "assigned":
        raise Conflict(f"Work order {wo.id} is {wo.status}; it cannot be started.")
    wo.status = "in_progress"
    wo.started_at = utcnow()
    for sr in _locked_requests(wo):
        if (
            sr.is_open
            and sr.status != "in_progress"
            and "in_progress" in requests_service.TRANSITIONS[sr.status]
        ):
            requests_service.mark_in_progress(sr, actor_id=actor.id, work_order_id=wo.id)
    db.session.flush()
    return wo


def complete(
    wo: WorkOrder,
    *,
    actor: User,
    note: str = "",
    photo: media.ValidatedPhoto | None = None,
) -> WorkOrder:
    """Close out the order in the field; every linked open request closes as fixed.

    :raises Forbidden: the user is not on the order's crew nor a dispatcher of it.
    :raises Conflict: the order is completed or cancelled.
    :raises DomainError: a required completion photo is missing, the note is too long.
    """
    permissions.check_can_work(actor, wo, "complete")
    if wo.status not in OPEN_STATUSES:
        raise Conflict(f"Work order {wo.id} is already {wo.status}.")
    note = _clean_text(note, "note", "note")
    if photo is None and photo_required(wo):
        raise DomainError("Attach a photo of the finished work.", field="photo")

    now = utcnow()
    photo_id = None
    if photo is not None:
        photo_id = media.attach_photo(photo, kind="after", work_order_id=wo.id).id
    wo.status = "completed"
    wo.completion_note = note
    wo.completed_at = now
    if wo.started_at is None:
        wo.started_at = now
    public_note = note or f"Work completed by {wo.crew.name}."
    for sr in _locked_requests(wo):
        if sr.is_open:
            requests_service.close(
                sr,
                reason="fixed",
                actor_id=actor.id,
                note=public_note,
                photo_id=photo_id,
                work_order_id=wo.id,
                at=now,
            )
    db.session.flush()
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
    reason = _clean_text(reason, "reason", "reason")
    if not reason:
        raise DomainError("Say why the work order is cancelled.", field="reason")
    wo.status = "cancelled"
    for sr in _locked_requests(wo):
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


def _locked_requests(wo: WorkOrder) -> list[ServiceRequest]:
    """Lock the order's requests (in id order) and reload them as last committed."""
    srs = sorted(wo.requests, key=lambda sr: sr.id)
    for sr in srs:
        requests_service.get_request(sr.id, for_update=True)
        db.session.refresh(sr)  # the identity map may hold what was read before the lock
    return srs

"""Reading work orders: one by id, a department's, a crew's list nearest first, their photos."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import timedelta

from geoalchemy2 import Geography
from sqlalchemy import Float, case, cast, func, select

from app.core.clock import utcnow
from app.core.errors import DomainError, NotFound
from app.extensions import db
from app.media.models import Photo
from app.workorders.models import WORK_ORDER_STATUSES, WorkOrder, work_order_requests

OPEN_STATUSES = ("assigned", "in_progress")
RECENT_COMPLETED_DAYS = 7
#: the most orders a crew's list shows; a crew's day is a few dozen stops
CREW_LIST_LIMIT = 200
#: the kinds of photo a crew adds to an order: the site before the work, and the result
WORK_PHOTO_KINDS = ("before", "after")

_PRIORITY_RANK = case(
    {"urgent": 0, "high": 1, "normal": 2, "low": 3}, value=WorkOrder.priority, else_=2
)


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


def crew_open_orders(
    crew_id: int, *, near: tuple[float, float] | None = None, limit: int = CREW_LIST_LIMIT
) -> list[tuple[WorkOrder, float | None]]:
    """Return a crew's open orders with their distance in metres from `near` (lat, long).

    With a position, nearest first; without, by priority, then planned day, then age.

    :raises DomainError: a latitude or longitude out of range (400).
    """
    is_crews_open = (WorkOrder.crew_id == crew_id, WorkOrder.status.in_(OPEN_STATUSES))
    if near is None:
        orders = db.session.scalars(
            select(WorkOrder)
            .where(*is_crews_open)
            .order_by(
                _PRIORITY_RANK,
                WorkOrder.scheduled_for.asc().nulls_last(),
                WorkOrder.created_at,
                WorkOrder.id,
            )
            .limit(limit)
        )
        return [(wo, None) for wo in orders]
    lat, long = near
    if not (-90 <= lat <= 90 and -180 <= long <= 180) or not all(map(math.isfinite, near)):
        raise DomainError("The position must be a latitude and a longitude in degrees.")
    here = func.ST_SetSRID(func.ST_MakePoint(long, lat), 4326)
    # KNN: `<->` lets the GiST index on location hand the orders over nearest first. It
    # measures in degrees, which stretch with latitude, so the few candidates are re-ranked
    # by their true distance on the ground (geography, in metres).
    nearest = (
        select(WorkOrder.id)
        .where(*is_crews_open)
        .order_by(WorkOrder.location.op("<->", return_type=Float)(here))
        .limit(limit)
        .subquery()
    )
    metres = func.ST_Distance(cast(WorkOrder.location, Geography), cast(here, Geography))
    rows = db.session.execute(
        select(WorkOrder, metres)
        .join(nearest, nearest.c.id == WorkOrder.id)
        .order_by(metres.asc().nulls_last(), WorkOrder.id)
    ).all()
    return [(wo, None if distance is None else float(distance)) for wo, distance in rows]


def recently_completed(crew_id: int, *, days: int = RECENT_COMPLETED_DAYS) -> list[WorkOrder]:
    """Return the orders a crew completed in the last days, latest first."""
    since = utcnow() - timedelta(days=days)
    return list(
        db.session.scalars(
            select(WorkOrder)
            .where(
                WorkOrder.crew_id == crew_id,
                WorkOrder.status == "completed",
                WorkOrder.completed_at >= since,
            )
            .order_by(WorkOrder.completed_at.desc(), WorkOrder.id.desc())
        )
    )


def crew_work_orders(
    crew_id: int, *, completed_days: int = RECENT_COMPLETED_DAYS
) -> list[WorkOrder]:
    """Return a crew's open orders (oldest first), then those completed in the last days."""
    open_orders = db.session.scalars(
        select(WorkOrder)
        .where(WorkOrder.crew_id == crew_id, WorkOrder.status.in_(OPEN_STATUSES))
        .order_by(WorkOrder.assigned_at, WorkOrder.id)
    ).all()
    return [*open_orders, *recently_completed(crew_id, days=completed_days)]


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


def work_photo_ids(work_order_ids: Iterable[int]) -> dict[int, dict[str, list[int]]]:
    """Map each work order to its photo ids by kind ("before", "after"), oldest first."""
    ids = list(work_order_ids)
    found: dict[int, dict[str, list[int]]] = {i: {k: [] for k in WORK_PHOTO_KINDS} for i in ids}
    if ids:
        rows = db.session.execute(
            select(Photo.work_order_id, Photo.kind, Photo.id)
            .where(Photo.work_order_id.in_(ids), Photo.kind.in_(WORK_PHOTO_KINDS))
            .order_by(Photo.id)
        )
        for wo_id, kind, photo_id in rows:
            if wo_id is not None:
                found[wo_id][kind].append(photo_id)
    return found


def report_photo_ids(request_ids: Iterable[int]) -> dict[int, list[int]]:
    """Map each request to the ids of the photos its reporter sent, oldest first."""
    ids = list(request_ids)
    found: dict[int, list[int]] = {i: [] for i in ids}
    if ids:
        rows = db.session.execute(
            select(Photo.request_id, Photo.id)
            .where(Photo.request_id.in_(ids), Photo.kind == "report")
            .order_by(Photo.id)
        )
        for request_id, photo_id in rows:
            if request_id is not None:
                found[request_id].append(photo_id)
    return found

"""A department's work queue: its open requests, filtered, sorted and paged.

The dispatcher page and the queue API read the same pages from here, so both show the same
requests in the same order. Requests imported as history (channel "import") stay out unless
asked for: years-old open rows from a city's old system would bury today's work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import column, func, or_, select, table
from sqlalchemy.orm import defaultload, lazyload

from app.core.errors import DomainError
from app.extensions import db
from app.geo.models import District
from app.geo.routing import routing_kind
from app.org.models import Crew, Department
from app.requests import duplicates
from app.requests.models import OPEN_STATUSES, ServiceRequest, ServiceType
from app.requests.queries import count_up_to, match_conditions

QUEUE_PAGE_SIZE = 50
MAX_QUEUE_PAGE_SIZE = 200
#: a queue counts its requests only this far past the page's first. Counting a backlog of
#: 234,000 open requests (a department of the 5 M-request benchmark) took 66 ms on every
#: page; the exact backlog is the dashboard's, from its rollups
QUEUE_COUNT_CAP = 5_000
SORTS = ("due", "age", "distance")
#: the channel of requests brought in by app/requests/importer.py
IMPORT_CHANNEL = "import"

# requests never imports workorders (imports point down), so the crew filter names the two
# work-order tables it reads; workorders.models defines them and their open statuses.
_work_orders = table("work_orders", column("id"), column("crew_id"), column("status"))
_work_order_requests = table("work_order_requests", column("work_order_id"), column("request_id"))
_OPEN_WORK_ORDER_STATUSES = ("assigned", "in_progress")


class InvalidFilter(DomainError):
    """A queue filter names something that does not exist, or cannot apply (422)."""

    status_code = 422
    code = "unprocessable"


@dataclass(frozen=True)
class QueueFilters:
    """What to show of a queue, and in which order. Empty values filter nothing."""

    statuses: tuple[str, ...] = ()
    service_code: str = ""
    district: str = ""
    #: True: only overdue requests; False: only those not yet due
    overdue: bool | None = None
    crew_id: int | None = None
    q: str = ""
    sort: str = "due"
    lat: float | None = None
    long: float | None = None
    include_imported: bool = False

    @classmethod
    def from_args(cls, args: dict[str, Any]) -> QueueFilters:
        """Build the filters from QueueArgs' loaded query arguments."""
        return cls(
            statuses=tuple(args.get("status") or ()),
            service_code=args.get("service_code", ""),
            district=args.get("district", ""),
            overdue=args.get("overdue"),
            crew_id=args.get("crew_id"),
            q=args.get("q", ""),
            sort=args.get("sort", "due"),
            lat=args.get("lat"),
            long=args.get("long"),
            include_imported=args.get("include_imported", False),
        )


@dataclass
class QueuePage:
    """One page of a queue and what the page's rows need besides the requests."""

    items: list[ServiceRequest]
    #: requests matching the filters, on every page: counted up to QUEUE_COUNT_CAP past
    #: the page's first, and then a lower bound (`more`)
    total: int
    #: open imported requests that match the other filters but are left out (also counted
    #: up to QUEUE_COUNT_CAP, then a lower bound: `more_hidden`)
    hidden_imported: int
    more: bool = False
    more_hidden: bool = False
    #: likely duplicates per request id (absent: none)
    duplicate_counts: dict[int, int] = field(default_factory=dict)
    #: metres from the filters' point per request id, when a point was given
    distances: dict[int, float] = field(default_factory=dict)
    #: the crew routing proposed, per request id (absent: none)
    proposed_crews: dict[int, Crew] = field(default_factory=dict)


#: a page's requests all belong to `department`, already in the session: their department
#: (and their types') are found there, not joined into each of the page's rows
_PAGE_LOADS = (
    lazyload(ServiceRequest.events),
    lazyload(ServiceRequest.department),
    defaultload(ServiceRequest.service_type).lazyload(ServiceType.department),
)


@dataclass
class QueueChoices:
    """What the dispatcher page offers in its filter lists."""

    service_types: list[ServiceType]
    districts: list[District]
    crews: list[Crew]


def department_queue(department_id: int, *, limit: int | None = None) -> list[ServiceRequest]:
    """Return every open request of the department, most overdue first (at most `limit`)."""
    stmt = (
        select(ServiceRequest)
        .options(lazyload(ServiceRequest.events))
        .where(ServiceRequest.department_id == department_id, ServiceRequest.is_open)
        .order_by(ServiceRequest.due_at, ServiceRequest.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def find_queue(
    department: Department,
    filters: QueueFilters,
    *,
    page: int = 1,
    page_size: int = QUEUE_PAGE_SIZE,
) -> QueuePage:
    """Return one page of the department's open requests that match the filters.

    Ties in the sort order are broken by request number, so walking the pages while nothing
    changes reaches every request exactly once.

    :raises InvalidFilter: a service type, district or crew that does not exist here, or a
        distance sort without a point.
    """
    conditions = _conditions(department, filters)
    point = _point(filters)
    offset = (max(page, 1) - 1) * page_size
    hidden, more_hidden = 0, False
    if not filters.include_imported:
        imported = ServiceRequest.is_imported
        hidden, more_hidden = count_up_to([*conditions, imported], QUEUE_COUNT_CAP)
        conditions.append(~imported)
    total, more = count_up_to(conditions, QUEUE_COUNT_CAP, offset=offset, page_size=page_size)

    columns: list[Any] = [ServiceRequest]
    if point is not None:
        columns.append(func.ST_DistanceSphere(ServiceRequest.location, point))
    stmt = (
        select(*columns)
        .options(*_PAGE_LOADS)
        .where(*conditions)
        .order_by(*_order(filters.sort, point), ServiceRequest.id)
        .limit(page_size)
        .offset(offset)
    )
    rows = db.session.execute(stmt).all()
    items = [row[0] for row in rows]
    ids = [sr.id for sr in items]
    crew_ids = {sr.crew_id for sr in items if sr.crew_id is not None}
    crews = (
        {c.id: c for c in db.session.scalars(select(Crew).where(Crew.id.in_(crew_ids)))}
        if crew_ids
        else {}
    )
    return QueuePage(
        items=items,
        total=total,
        hidden_imported=hidden,
        more=more,
        more_hidden=more_hidden,
        duplicate_counts=duplicates.candidate_counts(ids),
        distances={row[0].id: float(row[1]) for row in rows if len(row) > 1},
        proposed_crews={sr.id: crews[sr.crew_id] for sr in items if sr.crew_id in crews},
    )


def filter_choices(department: Department) -> QueueChoices:
    """Return the service types, districts and crews a queue can be filtered by."""
    in_queue = select(ServiceRequest.service_type_id).where(
        ServiceRequest.department_id == department.id, ServiceRequest.is_open
    )
    types = db.session.scalars(
        select(ServiceType)
        .where(or_(ServiceType.department_id == department.id, ServiceType.id.in_(in_queue)))
        .order_by(ServiceType.name)
    )
    districts = db.session.scalars(
        select(District)
        .where(District.kind == routing_kind(), District.retired.is_(False))
        .order_by(District.code)
    )
    crews = db.session.scalars(
        select(Crew).where(Crew.department_id == department.id).order_by(Crew.name)
    )
    return QueueChoices(list(types), list(districts), list(crews))


# ---------------------------------------------------------------------------------------------


def _conditions(department: Department, filters: QueueFilters) -> list[Any]:
    """Return the WHERE conditions of the filters, all but the one on imported requests."""
    conditions: list[Any] = [
        ServiceRequest.department_id == department.id,
        ServiceRequest.is_open,
    ]
    if filters.statuses:
        unknown = [s for s in filters.statuses if s not in OPEN_STATUSES]
        if unknown:
            raise InvalidFilter(
                f"status {unknown[0]!r} is not an open status: use {', '.join(OPEN_STATUSES)}.",
                field="status",
            )
        conditions.append(ServiceRequest.status.in_(filters.statuses))
    if filters.service_code:
        conditions.append(ServiceRequest.service_type_id == _service_type_id(department, filters))
    if filters.district:
        conditions.append(ServiceRequest.district_id == _district_id(filters.district))
    if filters.overdue is not None:
        overdue = ServiceRequest.is_overdue
        conditions.append(overdue if filters.overdue else ~overdue)
    if filters.crew_id is not None:
        conditions.append(_crew_condition(department, filters.crew_id))
    if filters.q.strip():
        condition, _ = match_conditions(filters.q)
        conditions.append(condition)
    return conditions


def _service_type_id(department: Department, filters: QueueFilters) -> int:
    type_id = db.session.scalar(
        select(ServiceType.id).where(ServiceType.code == filters.service_code)
    )
    if type_id is None:
        codes = [st.code for st in filter_choices(department).service_types]
        raise InvalidFilter(
            f"service_code {filters.service_code!r} is not a service type"
            + (f" of {department.name}: use one of {', '.join(codes)}." if codes else "."),
            field="service_code",
        )
    return type_id


def _district_id(code: str) -> int:
    kind = routing_kind()
    districts: dict[str, int] = {
        code: id_
        for code, id_ in db.session.execute(
            select(District.code, District.id).where(District.kind == kind).order_by(District.code)
        )
    }
    if code not in districts:
        raise InvalidFilter(
            f"district {code!r} is not a {kind.replace('_', ' ')} code: use one of "
            f"{', '.join(districts) or '(none loaded)'}.",
            field="district",
        )
    return districts[code]


def _crew_condition(department: Department, crew_id: int) -> Any:
    crews = db.session.execute(
        select(Crew.id, Crew.name).where(Crew.department_id == department.id).order_by(Crew.id)
    ).all()
    if crew_id not in {c.id for c in crews}:
        allowed = ", ".join(f"{c.id} ({c.name})" for c in crews) or "none: it has no crews"
        raise InvalidFilter(
            f"crew_id {crew_id} is not a crew of {department.name}: use {allowed}.",
            field="crew_id",
        )
    on_open_order = (
        select(_work_order_requests.c.request_id)
        .join(_work_orders, _work_orders.c.id == _work_order_requests.c.work_order_id)
        .where(
            _work_orders.c.crew_id == crew_id,
            _work_orders.c.status.in_(_OPEN_WORK_ORDER_STATUSES),
        )
    )
    return or_(ServiceRequest.crew_id == crew_id, ServiceRequest.id.in_(on_open_order))


def _point(filters: QueueFilters) -> Any:
    if filters.lat is None or filters.long is None:
        if filters.sort == "distance":
            raise InvalidFilter(
                "sort=distance needs lat and long: the point to measure from.", field="sort"
            )
        return None
    return func.ST_SetSRID(func.ST_MakePoint(filters.long, filters.lat), 4326)


def _order(sort: str, point: Any) -> list[Any]:
    if sort == "age":
        return [ServiceRequest.requested_at]
    if sort == "distance":
        # <-> is PostGIS's index-assisted (KNN) distance on the GiST index of location
        return [ServiceRequest.location.op("<->")(point)]
    if sort != "due":
        raise InvalidFilter(f"sort must be one of {', '.join(SORTS)}.", field="sort")
    return [ServiceRequest.due_at]

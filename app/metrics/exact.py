"""Response-time KPIs computed exactly from the stored request timestamps (drill-down).

Everything here only reads. Each report is one SQL statement: the grouping rows and the
totals come from one GROUP BY GROUPING SETS, every measure is an aggregate with a FILTER.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from flask import current_app
from sqlalchemy import ColumnElement, text
from sqlalchemy.dialects import postgresql

from app.core.clock import utcnow
from app.core.errors import DomainError
from app.extensions import db
from app.requests.models import CHANNELS, ServiceRequest

GroupBy = Literal["department", "service_type", "district", "channel"]
GROUP_BYS: tuple[str, ...] = ("department", "service_type", "district", "channel")
DEFAULT_WINDOW = timedelta(days=90)


@dataclass(frozen=True)
class KpiRow:
    """The response-time figures of one group (or of all groups, for the totals)."""

    key: str | None
    name: str
    #: requests made in the window
    requests: int
    #: requests closed in the window, whatever their reason, split into fixed and the rest
    closed: int
    closed_fixed: int
    closed_other: int
    median_hours_to_close: float | None
    p90_hours_to_close: float | None
    #: the same, less the time each request spent on hold (waiting on the resident, another
    #: agency, materials or the weather): the part of the wait the department controlled
    median_hours_to_close_excluding_holds: float | None
    p90_hours_to_close_excluding_holds: float | None
    #: share of the requests closed in the window that closed by their due time, in percent
    pct_closed_within_sla: float | None
    #: open now, and open now past their due time (not limited to the window)
    open_backlog: int
    overdue_open: int
    median_hours_to_acknowledge: float | None


@dataclass(frozen=True)
class ResponseTimes:
    group_by: str
    start: datetime
    end: datetime
    generated_at: datetime
    rows: list[KpiRow]
    totals: KpiRow


# What each grouping is keyed on: the dimension's rows (so quiet groups show as zeros) and
# the request column that points at them. Constant SQL; values are always bound.
_DIMENSIONS: dict[str, tuple[str, str, str]] = {
    # group_by: (dimension select of dim_id/key/name, its department filter, request column)
    "department": (
        "SELECT d.id AS dim_id, d.code AS key, d.name AS name FROM departments d",
        "d.id = :department_id",
        "department_id",
    ),
    "service_type": (
        "SELECT st.id AS dim_id, st.code AS key, st.name AS name FROM service_types st",
        "st.department_id = :department_id",
        "service_type_id",
    ),
    "district": (
        "SELECT di.id AS dim_id, di.code AS key, di.name AS name FROM districts di"
        " WHERE di.kind = :district_kind",
        "",
        "district_id",
    ),
    "channel": (
        "SELECT c AS dim_id, c AS key, initcap(c) AS name"
        " FROM unnest(CAST(:channels AS text[])) AS c",
        "",
        "channel",
    ),
}

_HOURS_TO_CLOSE = "EXTRACT(EPOCH FROM (sr.closed_at - sr.requested_at)) / 3600.0"
# held_seconds sums every pause, including one that closing ended; never below zero, for a
# request whose requested_at was backdated past its holds
_HOURS_TO_CLOSE_LESS_HOLDS = (
    "GREATEST(EXTRACT(EPOCH FROM (sr.closed_at - sr.requested_at)) - sr.held_seconds, 0) / 3600.0"
)
_HOURS_TO_ACK = "EXTRACT(EPOCH FROM (sr.acknowledged_at - sr.requested_at)) / 3600.0"
_REQUESTED = "sr.requested_at >= :start AND sr.requested_at < :end"
_CLOSED = "sr.closed_at >= :start AND sr.closed_at < :end"


def _sql(expression: ColumnElement[bool]) -> str:
    """Render a model's SQL expression, which binds only constants, as report text."""
    compiled = expression.compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    return str(compiled)


# open and overdue mean here what ServiceRequest says they mean everywhere else
_IS_OPEN = _sql(ServiceRequest.is_open.expression)
_IS_OVERDUE = _sql(ServiceRequest.is_overdue.expression)

_REPORT = """
WITH dim AS ({dim_sql}),
sr AS (
    SELECT {column} AS dim_id, requested_at, acknowledged_at, due_at, closed_at,
           closure_reason, held_seconds, {is_open} AS is_open, {is_overdue} AS is_overdue
    FROM service_requests
    WHERE ((requested_at >= :start AND requested_at < :end)
           OR (closed_at >= :start AND closed_at < :end)
           OR {is_open})
      {department_filter}
)
SELECT
    GROUPING(dim.dim_id, dim.key, dim.name) AS is_total,
    dim.key AS key,
    dim.name AS name,
    count(*) FILTER (WHERE {requested}) AS requests,
    count(*) FILTER (WHERE {closed}) AS closed,
    count(*) FILTER (WHERE {closed} AND sr.closure_reason = 'fixed') AS closed_fixed,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY CAST({to_close} AS double precision))
        FILTER (WHERE {closed}) AS median_hours_to_close,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY CAST({to_close} AS double precision))
        FILTER (WHERE {closed}) AS p90_hours_to_close,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY CAST({to_close_net} AS double precision))
        FILTER (WHERE {closed}) AS median_hours_to_close_excluding_holds,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY CAST({to_close_net} AS double precision))
        FILTER (WHERE {closed}) AS p90_hours_to_close_excluding_holds,
    count(*) FILTER (WHERE {closed} AND sr.closed_at <= sr.due_at) AS closed_within_sla,
    count(*) FILTER (WHERE sr.is_open) AS open_backlog,
    count(*) FILTER (WHERE sr.is_overdue) AS overdue_open,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY CAST({to_ack} AS double precision))
        FILTER (WHERE {requested} AND sr.acknowledged_at IS NOT NULL)
        AS median_hours_to_acknowledge
FROM dim
FULL JOIN sr ON sr.dim_id = dim.dim_id
GROUP BY GROUPING SETS ((dim.dim_id, dim.key, dim.name), ())
ORDER BY is_total, dim.name NULLS LAST, dim.key
"""


def _hours(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def _row(record: Any, *, name: str | None = None) -> KpiRow:
    closed = record.closed
    pct = round(100.0 * record.closed_within_sla / closed, 1) if closed else None
    return KpiRow(
        key=record.key,
        name=name or record.name or "(none)",
        requests=record.requests,
        closed=closed,
        closed_fixed=record.closed_fixed,
        closed_other=closed - record.closed_fixed,
        median_hours_to_close=_hours(record.median_hours_to_close),
        p90_hours_to_close=_hours(record.p90_hours_to_close),
        median_hours_to_close_excluding_holds=_hours(record.median_hours_to_close_excluding_holds),
        p90_hours_to_close_excluding_holds=_hours(record.p90_hours_to_close_excluding_holds),
        pct_closed_within_sla=pct,
        open_backlog=record.open_backlog,
        overdue_open=record.overdue_open,
        median_hours_to_acknowledge=_hours(record.median_hours_to_acknowledge),
    )


def response_times(
    group_by: GroupBy | str = "department",
    start: datetime | None = None,
    end: datetime | None = None,
    department_id: int | None = None,
) -> ResponseTimes:
    """Compute the response-time KPIs per group, and for all groups together.

    The window [start, end) selects requests by requested_at (volume, acknowledgement) and
    closures by closed_at (time to close, SLA); backlog and overdue are as of now. By
    default the window is the last 90 days. Time to close is given as the resident waited
    it and less the time on hold; within SLA compares closed_at with due_at, which holds
    have already moved.

    :raises DomainError: unknown group_by, naive datetimes, or start not before end.
    """
    if group_by not in _DIMENSIONS:
        raise DomainError(
            f"group_by must be one of {', '.join(GROUP_BYS)}, not {group_by!r}.",
            field="group_by",
        )
    now = utcnow()
    end = end or now
    start = start or end - DEFAULT_WINDOW
    if start.tzinfo is None or end.tzinfo is None:
        raise DomainError("start and end must carry a timezone (e.g. 2026-01-01T00:00:00Z).")
    if start >= end:
        raise DomainError("start must be before end.", field="start")

    dim_sql, dim_department_filter, column = _DIMENSIONS[group_by]
    department_filter = ""
    if department_id is not None:
        department_filter = "AND department_id = :department_id"
        if dim_department_filter:
            dim_sql += f" WHERE {dim_department_filter}"
    sql = _REPORT.format(
        dim_sql=dim_sql,
        column=column,
        department_filter=department_filter,
        requested=_REQUESTED,
        closed=_CLOSED,
        to_close=_HOURS_TO_CLOSE,
        to_close_net=_HOURS_TO_CLOSE_LESS_HOLDS,
        to_ack=_HOURS_TO_ACK,
        is_open=_IS_OPEN,
        is_overdue=_IS_OVERDUE,
    )
    params: dict[str, Any] = {"start": start, "end": end}
    if department_id is not None:
        params["department_id"] = department_id
    if group_by == "district":
        params["district_kind"] = current_app.config["ROUTING_DISTRICT_KIND"]
    if group_by == "channel":
        params["channels"] = list(CHANNELS)

    rows: list[KpiRow] = []
    totals: KpiRow | None = None
    for record in db.session.execute(text(sql), params):
        if record.is_total:
            totals = _row(record, name="All")
        else:
            rows.append(_row(record))
    assert totals is not None  # GROUPING SETS always yields the () row
    return ResponseTimes(
        group_by=group_by, start=start, end=end, generated_at=now, rows=rows, totals=totals
    )

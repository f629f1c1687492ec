"""KPI API: the dashboard's numbers as JSON, or as CSV with ?format=csv.

Every endpoint takes the same filters (from, to, department, service_type, district,
channel); a bad one is a 400 saying what to fix.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask_smorest import Blueprint

from app.auth.api import BEARER
from app.auth.permissions import roles_required
from app.extensions import db
from app.metrics import backlog, buckets, filters, kpis, permissions, targets
from app.metrics import kpi_schemas as s
from app.metrics.csvout import FIGURE_COLUMNS, csv_response

blp = Blueprint(
    "kpi_api",
    __name__,
    url_prefix="/api/v1/metrics",
    description="KPIs per group and period, backlog, map, targets (managers and admins).",
)


def _csv_wanted() -> bool:
    return filters.choice(request.args, "format", ("json", "csv"), "json") == "csv"


def group_report(args: Any) -> kpis.Report:
    """Read the filters and group_by from `args` and compute the report."""
    f = filters.parse(args)
    group_by = filters.choice(args, "group_by", filters.GROUP_BYS, "department")
    return kpis.by_group(f, group_by)


@blp.route("/kpis", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(s.KpiGroupsIn, location="query", as_kwargs=True)
@blp.response(200, s.KpiReportOut)
@roles_required(*permissions.READERS)
def kpis_endpoint(**_: Any) -> kpis.Report | Response:
    """Every KPI per department, service type, district or channel, and in total."""
    report = group_report(request.args)
    if _csv_wanted():
        rows = [*report.rows, report.totals]
        return csv_response(f"kpis-by-{report.group_by}.csv", rows, FIGURE_COLUMNS)
    return report


@blp.route("/trend", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(s.KpiTrendIn, location="query", as_kwargs=True)
@blp.response(200, s.KpiTrendOut)
@roles_required(*permissions.READERS)
def trend_endpoint(**_: Any) -> dict[str, Any] | Response:
    """Every KPI per day, week or month of the range."""
    f = filters.parse(request.args)
    period = filters.choice(request.args, "period", filters.PERIODS, "day")
    rows = kpis.trend(f, period)
    if _csv_wanted():
        return csv_response(f"kpis-per-{period}.csv", rows, FIGURE_COLUMNS)
    return {
        "period": period,
        "first": f.first,
        "last": f.last,
        "max_relative_error": buckets.MAX_RELATIVE_ERROR,
        "rows": rows,
    }


@blp.route("/backlog", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(s.KpiFiltersIn, location="query", as_kwargs=True)
@blp.response(200, s.BacklogOut)
@roles_required(*permissions.READERS)
def backlog_endpoint(**_: Any) -> dict[str, Any] | Response:
    """The open backlog now by age (0–2, 3–7, 8–30, 31–90, over 90 days), and overdue."""
    buckets = backlog.aging(filters.parse(request.args))
    if _csv_wanted():
        return csv_response("backlog-aging.csv", buckets, ("label", "open", "overdue"))
    return {"buckets": buckets}


@blp.route("/map", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(s.KpiMapIn, location="query", as_kwargs=True)
@blp.response(200, s.MapOut)
@roles_required(*permissions.READERS)
def map_endpoint(**_: Any) -> dict[str, Any] | Response:
    """Open requests (most overdue first) as points: id, place, type, overdue. No person."""
    limit = filters.page_size(request.args)
    points, total = backlog.points(filters.parse(request.args), limit)
    if _csv_wanted():
        return csv_response(
            "open-requests.csv", points, ("id", "lat", "long", "service_type", "overdue")
        )
    return {"total_open": total, "points": points}


@blp.route("/scorecard", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(s.KpiFiltersIn, location="query", as_kwargs=True)
@blp.response(200, s.ScorecardOut)
@roles_required(*permissions.READERS)
def scorecard_endpoint(**_: Any) -> dict[str, Any] | Response:
    """Each target: actual, previous same-length range, change, and red/amber/green."""
    f = filters.parse(request.args)
    lines = targets.scorecard(f)
    if _csv_wanted():
        return csv_response("scorecard.csv", lines)
    return {"first": f.first, "last": f.last, "lines": lines}


@blp.route("/targets", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, s.TargetOut(many=True))
@roles_required(*permissions.READERS)
def list_targets() -> list[Any]:
    """Every target set."""
    return targets.all_targets()


@blp.route("/targets", methods=["PUT"])
@blp.doc(security=BEARER)
@blp.arguments(s.TargetIn)
@blp.response(200, s.TargetOut)
@roles_required(*permissions.READERS)
def put_target(data: dict[str, Any]) -> Any:
    """Set (or replace) the target of one KPI for one department or one service type."""
    row = targets.set_target(**data)
    db.session.commit()
    return row


@blp.route("/targets/<int:target_id>", methods=["DELETE"])
@blp.doc(security=BEARER)
@blp.response(204)
@roles_required(*permissions.READERS)
def delete_target(target_id: int) -> None:
    """Remove a target."""
    targets.delete_target(target_id)
    db.session.commit()

"""KPI API: the dashboard's numbers as JSON, or as CSV with ?format=csv.

Every endpoint takes the same filters (from, to, department, service_type, district,
channel); a bad one is a 400 saying what to fix.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Blueprint

from app.auth.api import BEARER
from app.auth.permissions import roles_required
from app.core.replica import reads_from_replica
from app.extensions import db
from app.metrics import kpi_schemas as s
from app.metrics import panels, permissions, targets

blp = Blueprint(
    "kpi_api",
    __name__,
    url_prefix="/api/v1/metrics",
    description="KPIs per group and period, backlog, map, targets (managers and admins).",
)


@blp.route("/kpis", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(s.KpiGroupsIn, location="query", as_kwargs=True)
@blp.response(200, s.KpiReportOut)
@roles_required(*permissions.READERS)
@reads_from_replica
def kpis_endpoint(**_: Any) -> Any:
    """Every KPI per department, service type, district or channel, and in total."""
    return panels.respond("kpis", request.args)


@blp.route("/trend", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(s.KpiTrendIn, location="query", as_kwargs=True)
@blp.response(200, s.KpiTrendOut)
@roles_required(*permissions.READERS)
@reads_from_replica
def trend_endpoint(**_: Any) -> Any:
    """Every KPI per day, week or month of the range."""
    return panels.respond("trend", request.args)


@blp.route("/backlog", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(s.KpiFiltersIn, location="query", as_kwargs=True)
@blp.response(200, s.BacklogOut)
@roles_required(*permissions.READERS)
@reads_from_replica
def backlog_endpoint(**_: Any) -> Any:
    """The open backlog now by age (0–2, 3–7, 8–30, 31–90, over 90 days), and overdue."""
    return panels.respond("backlog", request.args)


@blp.route("/map", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(s.KpiMapIn, location="query", as_kwargs=True)
@blp.response(200, s.OpenRequestsMapOut)
@roles_required(*permissions.READERS)
@reads_from_replica
def map_endpoint(**_: Any) -> Any:
    """Open requests (most overdue first) as points: id, place, type, overdue. No person."""
    return panels.respond("map", request.args)


@blp.route("/scorecard", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(s.KpiFiltersIn, location="query", as_kwargs=True)
@blp.response(200, s.ScorecardOut)
@roles_required(*permissions.READERS)
@reads_from_replica
def scorecard_endpoint(**_: Any) -> Any:
    """Each target: actual, previous same-length range, change, and red/amber/green."""
    return panels.respond("scorecard", request.args)


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

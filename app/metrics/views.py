"""The managers' dashboard."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template, request

from app.auth.permissions import roles_required
from app.core.clock import utcnow
from app.core.replica import reads_from_replica
from app.metrics import permissions, service

bp = Blueprint("metrics", __name__)

WINDOWS = (7, 30, 90)
DEFAULT_DAYS = 30


@bp.route("/metrics")
@roles_required(*permissions.READERS)
@reads_from_replica
def dashboard() -> str:
    """Show the KPI tiles and the per-department and per-service-type tables."""
    days = request.args.get("days", type=int)
    if days not in WINDOWS:
        days = DEFAULT_DAYS
    end = utcnow()
    start = end - timedelta(days=days)
    by_department = service.response_times("department", start, end)
    by_type = service.response_times("service_type", start, end)
    return render_template(
        "metrics/dashboard.html",
        days=days,
        windows=WINDOWS,
        totals=by_department.totals,
        by_department=by_department,
        by_type=by_type,
    )

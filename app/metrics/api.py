"""Metrics API: response-time KPIs for managers."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from app.auth.api import BEARER
from app.auth.permissions import roles_required
from app.core.errors import DomainError, NotFound
from app.core.replica import reads_from_replica
from app.metrics import permissions, service
from app.metrics.schemas import MetricsQueryIn, MetricsResponseTimesOut
from app.org import service as org

blp = Blueprint(
    "metrics_api",
    __name__,
    url_prefix="/api/v1",
    description="Response-time KPIs (managers and admins).",
)


@blp.route("/metrics/response-times", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(MetricsQueryIn, location="query")
@blp.response(200, MetricsResponseTimesOut)
@roles_required(*permissions.READERS)
@reads_from_replica
def response_times(query: dict[str, Any]) -> service.ResponseTimes:
    """Median and p90 time to close, % within SLA, backlog and overdue, per group."""
    department_id = None
    if query["department"]:
        try:
            department_id = org.get_department(query["department"]).id
        except NotFound as err:
            raise DomainError(err.message, field="department") from None
    return service.response_times(
        query["group_by"], query["start"], query["end"], department_id=department_id
    )

"""The public performance page: headline KPIs per service type and district, and the
monthly trend, from the rollups. Aggregates only; no request, no resident."""

from __future__ import annotations

import json
from datetime import timedelta

from flask import Blueprint, render_template, request

from app.core.replica import reads_from_replica
from app.metrics import filters, kpis

bp = Blueprint("performance", __name__)

#: the headline window and the trend's length
WINDOW_DAYS = 90
TREND_MONTHS = 12


@bp.route("/performance")
@reads_from_replica
def performance() -> str:
    """Show how the city responds: per service type and district, and month by month."""
    f = filters.parse({"to": request.args.get("to", "")}, default_days=WINDOW_DAYS)
    by_type = kpis.by_group(f, "service_type")
    by_district = kpis.by_group(f, "district")
    first_month = (f.last.replace(day=1) - timedelta(days=31 * (TREND_MONTHS - 1))).replace(day=1)
    months = kpis.trend(filters.Filters(first=first_month, last=f.last), "month")
    series = {
        "labels": [m.key[:7] if m.key else "" for m in months],
        "requests": [m.volume for m in months],
        "within_sla": [m.pct_within_sla for m in months],
        "median_days": [
            None if m.median_hours_to_close is None else round(m.median_hours_to_close / 24, 2)
            for m in months
        ],
    }
    return render_template(
        "metrics/performance.html",
        f=f,
        by_type=by_type,
        by_district=by_district,
        totals=by_type.totals,
        months=months,
        series=json.dumps(series),
        max_error=max(by_type.max_relative_error, by_district.max_relative_error),
    )

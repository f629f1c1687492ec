"""The dashboard's panels, each as JSON or CSV from the same rows.

The API (bearer tokens) and the dashboard page's own data routes (the signed-in session)
both answer through here, so a panel, its CSV and the API agree by construction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Response, jsonify
from marshmallow import Schema

from app.metrics import backlog, filters, kpis, targets
from app.metrics import kpi_schemas as s
from app.metrics.csvout import FIGURE_COLUMNS, csv_response


@dataclass(frozen=True)
class Panel:
    payload: Any
    filename: str
    rows: list[Any]
    columns: Sequence[str] | None = None


Args = Mapping[str, str]


def kpis_panel(args: Args) -> Panel:
    f = filters.parse(args)
    group_by = filters.choice(args, "group_by", filters.GROUP_BYS, "department")
    report = kpis.by_group(f, group_by)
    rows = [*report.rows, report.totals]
    return Panel(report, f"kpis-by-{group_by}.csv", rows, FIGURE_COLUMNS)


def trend_panel(args: Args) -> Panel:
    f = filters.parse(args)
    period = filters.choice(args, "period", filters.PERIODS, "day")
    report = kpis.trend_report(f, period)
    return Panel(report, f"kpis-per-{period}.csv", report.rows, FIGURE_COLUMNS)


def backlog_panel(args: Args) -> Panel:
    rows = backlog.aging(filters.parse(args))
    return Panel({"buckets": rows}, "backlog-aging.csv", rows, ("label", "open", "overdue"))


def map_panel(args: Args) -> Panel:
    limit = filters.page_size(args, default=5000)
    points, total = backlog.points(filters.parse(args), limit)
    columns = ("id", "lat", "long", "service_type", "overdue")
    return Panel({"total_open": total, "points": points}, "open-requests.csv", points, columns)


def scorecard_panel(args: Args) -> Panel:
    f = filters.parse(args)
    lines = targets.scorecard(f)
    return Panel({"first": f.first, "last": f.last, "lines": lines}, "scorecard.csv", lines)


PANELS: dict[str, tuple[Callable[[Args], Panel], type[Schema]]] = {
    "kpis": (kpis_panel, s.KpiReportOut),
    "trend": (trend_panel, s.KpiTrendOut),
    "backlog": (backlog_panel, s.BacklogOut),
    "map": (map_panel, s.OpenRequestsMapOut),
    "scorecard": (scorecard_panel, s.ScorecardOut),
}


def respond(name: str, args: Args) -> Any:
    """Return the panel's CSV download if ?format=csv, else its payload (to be dumped)."""
    wants_csv = filters.choice(args, "format", ("json", "csv"), "json") == "csv"
    panel = PANELS[name][0](args)
    if wants_csv:
        return csv_response(panel.filename, panel.rows, panel.columns)
    return panel.payload


def respond_json(name: str, args: Args) -> Response:
    """Return the panel as a finished JSON or CSV response (for the page's data routes)."""
    out = respond(name, args)
    if isinstance(out, Response):
        return out
    return jsonify(PANELS[name][1]().dump(out))

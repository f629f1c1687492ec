"""KPIs per group or per period, summed from the rollup tables.

Counts, sums and the SLA share are exact; medians and p90s come from the log-spaced
histograms, within buckets.MAX_RELATIVE_ERROR of the exact percentile_cont, or, when the
range holds few durations, exactly from the raw rows (percentiles.py). Which rollup rows
a range reads is rollup_reads.py's business.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import text

from app.extensions import db
from app.metrics import buckets, percentiles, satisfaction
from app.metrics.backlog import open_by_group
from app.metrics.filters import Filters
from app.metrics.models import MEASURES
from app.metrics.rollup_reads import SUMS, TOTAL, Sums, aggregate
from app.metrics.rollup_reads import level_for as level_for  # the tests read it from here

_KEYS = {
    "department": "department_id",
    "service_type": "service_type_id",
    "district": "district_id",
    "channel": "channel",
}
_PERIOD_KEYS = {
    "day": "period",
    "week": "CAST(date_trunc('week', period) AS date)",
    "month": "CAST(date_trunc('month', period) AS date)",
}
#: each figure and the count it is computed from, for the small-sample flag
SAMPLE_OF = {
    "median_hours_to_acknowledge": "acknowledged",
    "median_hours_to_close": "closed_counted",
    "p90_hours_to_close": "closed_counted",
    "median_hours_to_close_excluding_holds": "closed_counted",
    "p90_hours_to_close_excluding_holds": "closed_counted",
    "pct_within_sla": "closed_counted",
    "reopen_rate": "closed",
    "transfer_rate": "volume",
}


@dataclass
class Figures:
    """The KPIs of one group or period, or of everything (key None, name 'All')."""

    key: str | None
    name: str
    volume: int = 0
    acknowledged: int = 0
    #: every closure, then the ones counted in time to close and the three kept apart
    closed: int = 0
    closed_counted: int = 0
    closed_duplicate: int = 0
    closed_referred: int = 0
    closed_no_action: int = 0
    within_sla: int = 0
    reopened: int = 0
    transferred: int = 0
    median_hours_to_acknowledge: float | None = None
    median_hours_to_close: float | None = None
    p90_hours_to_close: float | None = None
    median_hours_to_close_excluding_holds: float | None = None
    p90_hours_to_close_excluding_holds: float | None = None
    pct_within_sla: float | None = None
    reopen_rate: float | None = None
    transfer_rate: float | None = None
    #: open now and open past due now (group reports only; not limited to the range)
    open_backlog: int = 0
    overdue: int = 0
    #: reporters' answers given in the range (group reports only): how many, the share
    #: saying fixed, and the mean 1–5 rating of those that gave one
    satisfaction_responses: int = 0
    satisfaction_ratings: int = 0
    pct_fixed: float | None = None
    mean_rating: float | None = None
    #: the figures computed from fewer than METRICS_MIN_SAMPLE requests (or answers)
    small_sample: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    group_by: str
    first: date
    last: date
    rows: list[Figures]
    totals: Figures
    max_relative_error: float = buckets.MAX_RELATIVE_ERROR
    min_sample: int = 20
    #: where the medians and p90s come from: "exact" (raw rows) or "histogram"
    percentiles: str = percentiles.HISTOGRAM


@dataclass(frozen=True)
class Trend:
    period: str
    first: date
    last: date
    rows: list[Figures]
    max_relative_error: float = buckets.MAX_RELATIVE_ERROR
    percentiles: str = percentiles.HISTOGRAM


def names(group_by: str) -> dict[Any, tuple[str, str]]:
    """Return each group's key → (code, display name)."""
    sql = {
        "department": "SELECT id, code, name FROM departments",
        "service_type": "SELECT id, code, name FROM service_types",
        "district": "SELECT id, code, name FROM districts WHERE kind = :kind",
    }.get(group_by)
    if sql is None:
        from app.requests.models import CHANNELS

        return {c: (c, c.capitalize()) for c in CHANNELS}
    kind = current_app.config["ROUTING_DISTRICT_KIND"]
    return {r[0]: (r[1], r[2]) for r in db.session.execute(text(sql), {"kind": kind})}


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600.0, 2)


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _finish(fig: Figures, measured: percentiles.Measured, min_sample: int) -> Figures:
    """Set the figures derived from the sums and the percentiles measured."""
    none = (None, None)
    close = measured.get(MEASURES["close"], none)
    net = measured.get(MEASURES["close_net"], none)
    fig.median_hours_to_acknowledge = _hours(measured.get(MEASURES["ack"], none)[0])
    fig.median_hours_to_close, fig.p90_hours_to_close = _hours(close[0]), _hours(close[1])
    fig.median_hours_to_close_excluding_holds = _hours(net[0])
    fig.p90_hours_to_close_excluding_holds = _hours(net[1])
    fig.pct_within_sla = _pct(fig.within_sla, fig.closed_counted)
    fig.reopen_rate = _pct(fig.reopened, fig.closed)
    fig.transfer_rate = _pct(fig.transferred, fig.volume)
    fig.small_sample = [name for name, base in SAMPLE_OF.items() if getattr(fig, base) < min_sample]
    return fig


def _figures(
    key: Any,
    label: tuple[str | None, str],
    sums: dict[str, int],
    measured: percentiles.Exact,
    min_sample: int,
    exact: percentiles.Exact | None = None,
) -> Figures:
    fig = Figures(key=label[0], name=label[1], volume=sums.get("requested", 0))
    for c in SUMS[1:]:
        setattr(fig, c, sums.get(c, 0))
    # a key with nothing measured exactly has no percentile
    chosen = measured.get(key, {}) if exact is None else exact.get(key, {})
    return _finish(fig, chosen, min_sample)


def _exact(f: Filters, key_sql: str, sums: Sums) -> tuple[percentiles.Exact | None, str]:
    """Read the percentiles exactly when the range holds few durations."""
    if not percentiles.is_cheap(sums.get(TOTAL, {})):
        return None, percentiles.HISTOGRAM
    return percentiles.read(f, key_sql, TOTAL), percentiles.EXACT


def by_group(f: Filters, group_by: str) -> Report:
    """Return the KPIs of [first, last] per department, type, district or channel."""
    min_sample = int(current_app.config["METRICS_MIN_SAMPLE"])
    key_sql = _KEYS[group_by]
    sums, measured = aggregate(f, key_sql)
    exact, source = _exact(f, key_sql, sums)
    labels = names(group_by)
    backlog = open_by_group(f, key_sql)
    answers = satisfaction.by_key(f, key_sql)
    keys = (set(sums) | set(backlog) | set(answers)) - {TOTAL, satisfaction.TOTAL}
    rows = []
    for k in keys:
        code, name = labels.get(k, (None, "(none)")) if k is not None else (None, "(none)")
        fig = _figures(k, (code, name), sums.get(k, {}), measured, min_sample, exact)
        fig.open_backlog, fig.overdue = backlog.get(k, (0, 0))
        satisfaction.apply(fig, answers.get(k))
        rows.append(fig)
    rows.sort(key=lambda r: (r.name == "(none)", r.name))
    totals = _figures(TOTAL, (None, "All"), sums.get(TOTAL, {}), measured, min_sample, exact)
    totals.open_backlog = sum(r.open_backlog for r in rows)
    totals.overdue = sum(r.overdue for r in rows)
    satisfaction.apply(totals, answers.get(satisfaction.TOTAL))
    return Report(
        group_by,
        f.first,
        f.last,
        rows,
        totals,
        max_relative_error=percentiles.error_of(source),
        min_sample=min_sample,
        percentiles=source,
    )


def trend(f: Filters, period: str) -> list[Figures]:
    """Return the KPIs of each day, week or month of [first, last], oldest first."""
    return trend_report(f, period).rows


def trend_report(f: Filters, period: str) -> Trend:
    """Return the KPIs of each day, week or month of [first, last], oldest first, with the
    reporters' answers given in each.

    Days sum the day rows, weeks the week rows (a week cut by the range: its day rows
    inside it); months use the month rows where whole, and a month cut by the range counts
    only its days inside it.
    """
    min_sample = int(current_app.config["METRICS_MIN_SAMPLE"])
    key_sql = _PERIOD_KEYS[period]
    sums, measured = aggregate(f, key_sql, days_only=period != "month")
    exact, source = _exact(f, key_sql, sums)
    answers = satisfaction.by_period(f, period)
    rows = []
    for k in sorted((set(sums) | set(answers)) - {TOTAL, satisfaction.TOTAL}):
        label = (k.isoformat(), k.isoformat())
        fig = _figures(k, label, sums.get(k, {}), measured, min_sample, exact)
        satisfaction.apply(fig, answers.get(k))
        rows.append(fig)
    return Trend(period, f.first, f.last, rows, percentiles.error_of(source), source)

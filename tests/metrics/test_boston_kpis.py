"""The KPIs the dashboard serves for Boston's 2011 history, per department and per month,
against an independent computation over the raw CSV: counts and the SLA share exactly,
median and p90 time to close within the histograms' stated error.

The definitions applied to the raw rows are the app's: a request counts in the month it was
made (volume) and a closure in the month it closed, both in Boston time; closures as
duplicate, referred or no action needed are counted apart and left out of time to close and
of the SLA share; within SLA means closed at or before the due time (the export's target_dt,
else the imported type's default SLA); rows with no usable location are still counted.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db
from app.imports.catalogue import DEFAULT_SLA_HOURS
from app.imports.rows import closure_from_words
from app.metrics import buckets, kpis, panels
from app.metrics.rollup_sql import EXCLUDED_REASONS
from tests.imports.helpers import run_import
from tests.imports.test_city_exports import (
    BOSTON_CSV,
    BOSTON_WARDS,
    csv_rows,
    load_districts,
    shared,
)

pytestmark = pytest.mark.shared_data

TZ = ZoneInfo("America/New_York")


@dataclass
class Expected:
    volume: int = 0
    closed: int = 0
    closed_counted: int = 0
    closed_duplicate: int = 0
    closed_referred: int = 0
    closed_no_action: int = 0
    within_sla: int = 0
    hours_to_close: list[float] = field(default_factory=list)


def percentile_cont(values: list[float], q: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the two nearest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def local(value: str) -> datetime:
    return datetime.fromisoformat(value.strip()).replace(tzinfo=TZ)


def expected_figures(raw: list[dict[str, str]]) -> dict[tuple[str, str], Expected]:
    """(department code, 'YYYY-MM') → the figures, straight from the CSV."""
    out: dict[tuple[str, str], Expected] = defaultdict(Expected)
    for row in raw:
        dept = row["department"].strip()
        opened = local(row["open_dt"])
        out[dept, f"{opened:%Y-%m}"].volume += 1
        if row["case_status"] != "Closed":
            continue
        done = local(row["closed_dt"])
        if done < opened and done.time().hour == 0 and done.date() == opened.date():
            # a closing date without its time of day: closed the day it opened
            done = opened
        cell = out[dept, f"{done:%Y-%m}"]
        cell.closed += 1
        reason = closure_from_words(" ".join(row["closure_reason"].split()))
        if reason in EXCLUDED_REASONS:
            kept_apart = f"closed_{reason.removesuffix('_needed')}"
            setattr(cell, kept_apart, getattr(cell, kept_apart) + 1)
            continue
        cell.closed_counted += 1
        due = (
            local(row["target_dt"])
            if row["target_dt"].strip()
            else opened + timedelta(hours=DEFAULT_SLA_HOURS)
        )
        # compared as instants (an aware subtraction in one zone would ignore DST changes)
        done_utc, opened_utc = done.astimezone(UTC), opened.astimezone(UTC)
        cell.within_sla += done_utc <= due.astimezone(UTC)
        cell.hours_to_close.append((done_utc - opened_utc).total_seconds() / 3600)
    return out


def close_enough(served: float | None, exact: float | None) -> bool:
    """Within the stated relative error; a duration under a minute is read back as 30 s,
    and the served figure is rounded to 0.01 h."""
    if exact is None:
        return served is None
    assert served is not None
    return abs(served - exact) <= buckets.MAX_RELATIVE_ERROR * exact + 30 / 3600 + 0.005


def month_range(month: str) -> tuple[date, date]:
    first = date.fromisoformat(f"{month}-01")
    after = (first + timedelta(days=32)).replace(day=1)
    return first, after - timedelta(days=1)


def test_boston_2011_kpis_per_department_and_month_match_the_raw_csv(app, db_session):
    root = shared(app, BOSTON_CSV, BOSTON_WARDS)
    load_districts(root / BOSTON_WARDS, "WARD")
    db.session.commit()
    result = run_import(app, root / BOSTON_CSV, "boston")
    assert result.exit_code == 0, result.output
    rebuilt = app.test_cli_runner().invoke(args=["metrics", "rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output

    expected = expected_figures(csv_rows(root / BOSTON_CSV))
    months = sorted({month for _, month in expected})
    assert len(months) >= 6
    checked = 0
    for month in months:
        first, last = month_range(month)
        # the dashboard's own panel (the API and the page's data route answer through it)
        with app.test_request_context():
            report = panels.respond(
                "kpis", {"from": str(first), "to": str(last), "group_by": "department"}
            )
        assert isinstance(report, kpis.Report)
        # (a department with only an open backlog has a row too, empty for the month)
        served = {row.key: row for row in report.rows if row.volume or row.closed}
        wanted = {dept: e for (dept, m), e in expected.items() if m == month}
        assert set(served) == set(wanted), month
        for dept, e in wanted.items():
            got = served[dept]
            where = f"{dept} {month}"
            assert got.volume == e.volume, where
            assert got.closed == e.closed, where
            assert got.closed_counted == e.closed_counted, where
            assert got.closed_duplicate == e.closed_duplicate, where
            assert got.closed_referred == e.closed_referred, where
            assert got.closed_no_action == e.closed_no_action, where
            assert got.within_sla == e.within_sla, where
            share = round(100 * e.within_sla / e.closed_counted, 1) if e.closed_counted else None
            assert got.pct_within_sla == share, where
            median = percentile_cont(e.hours_to_close, 0.5)
            p90 = percentile_cont(e.hours_to_close, 0.9)
            assert close_enough(got.median_hours_to_close, median), (where, got, median)
            assert close_enough(got.p90_hours_to_close, p90), (where, got, p90)
            checked += 1
        # the month's total, every department together
        everything = [h for e in wanted.values() for h in e.hours_to_close]
        assert report.totals.volume == sum(e.volume for e in wanted.values())
        assert report.totals.within_sla == sum(e.within_sla for e in wanted.values())
        assert close_enough(report.totals.median_hours_to_close, percentile_cont(everything, 0.5))
    assert checked >= 60
    assert sum(e.volume for e in expected.values()) == 58251

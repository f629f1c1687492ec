"""Every KPI read from the rollups against figures computed by hand from the history."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.metrics import buckets, filters, kpis, rollup
from app.metrics.backlog import aging
from app.metrics.models import DEPARTMENT, FULL, SERVICE_TYPE

ERR = buckets.MAX_RELATIVE_ERROR


def approx(value: float) -> object:
    return pytest.approx(value, rel=ERR)


def report(history, group_by="department", **args):
    rollup.refresh()
    f = filters.parse({"from": history.first.isoformat(), **args})
    return kpis.by_group(f, group_by)


def test_totals_match_the_hand_computed_figures(history):
    totals = report(history).totals
    assert totals.volume == 9
    # closures: 3 counted (fixed), 3 kept apart; the graffiti's closure was undone by reopening
    assert (totals.closed, totals.closed_counted) == (6, 3)
    assert (totals.closed_duplicate, totals.closed_referred, totals.closed_no_action) == (1, 1, 1)
    # raw [10, 50, 100] h: median 50, p90 50 + 0.8·50 = 90; net of holds [10, 30, 100]
    assert totals.median_hours_to_close == approx(50)
    assert totals.p90_hours_to_close == approx(90)
    assert totals.median_hours_to_close_excluding_holds == approx(30)
    assert totals.p90_hours_to_close_excluding_holds == approx(86)
    # the duplicates' 5 h never flatter time to close, nor the SLA share: 2 of 3 in time
    assert totals.within_sla == 2 and totals.pct_within_sla == 66.7
    # acknowledged after [1, 2, 1, 1, 1, 3, 4, 1] h
    assert totals.acknowledged == 8 and totals.median_hours_to_acknowledge == approx(1)
    assert totals.reopened == 1 and totals.reopen_rate == round(100 / 6, 1)
    assert totals.transferred == 1 and totals.transfer_rate == round(100 / 9, 1)
    # all three open requests are 17–18 days old and past due
    assert (totals.open_backlog, totals.overdue) == (3, 3)


def test_by_department_counts_each_request_where_it_is_now(history):
    rows = {r.key: r for r in report(history).rows}
    assert set(rows) == {"PWD", "PARKS"}
    # the transferred streetlight now belongs to Parks, with its transfer
    assert (rows["PWD"].volume, rows["PWD"].transferred) == (7, 0)
    assert (rows["PARKS"].volume, rows["PARKS"].transferred) == (2, 1)
    assert rows["PARKS"].reopened == 1 and rows["PARKS"].closed == 0
    assert rows["PARKS"].reopen_rate is None  # nothing closed in the range to reopen
    assert (rows["PWD"].open_backlog, rows["PARKS"].open_backlog) == (1, 2)


def test_by_channel_district_and_type(history):
    channels = {r.key: r for r in report(history, "channel").rows}
    assert channels["phone"].volume == 1
    assert channels["phone"].median_hours_to_close == approx(50)
    assert channels["phone"].median_hours_to_close_excluding_holds == approx(30)
    districts = {r.key: r.volume for r in report(history, "district").rows}
    assert districts == {"1": 8, "2": 1}
    types = {r.key: r.volume for r in report(history, "service_type").rows}
    assert types == {"pothole": 7, "graffiti": 2}


def test_filters_narrow_every_figure(history):
    totals = report(history, department="PWD", channel="web").totals
    assert totals.volume == 6 and totals.closed_counted == 2
    assert totals.median_hours_to_close == approx(55)  # [10, 100]
    # a range that ends before the last requests were made
    last = (history.first + timedelta(days=1)).isoformat()
    totals = report(history, to=last).totals
    assert totals.volume == 5
    # the 100 h closure falls 4 days after the first day, outside the two-day range
    assert totals.closed_counted == 1 and totals.median_hours_to_close == approx(10)


def test_small_samples_are_flagged(history, app, monkeypatch):
    totals = report(history).totals
    assert "median_hours_to_close" in totals.small_sample  # 3 closures < 20
    assert "transfer_rate" in totals.small_sample
    monkeypatch.setitem(app.config, "METRICS_MIN_SAMPLE", 3)
    totals = report(history).totals
    assert "median_hours_to_close" not in totals.small_sample
    assert "pct_within_sla" not in totals.small_sample
    rows = {r.key: r for r in report(history).rows}
    assert "transfer_rate" in rows["PARKS"].small_sample  # 2 requests < 3


def test_trend_per_day_week_and_month_sum_to_the_totals(history):
    rollup.refresh()
    f = filters.parse({"from": history.first.isoformat()})
    days = kpis.trend(f, "day")
    assert [d.volume for d in days[:4]] == [2, 3, 2, 2]
    assert days[0].key == history.first.isoformat()
    for period in ("day", "week", "month"):
        rows = kpis.trend(f, period)
        assert sum(r.volume for r in rows) == 9, period
        assert sum(r.closed_counted for r in rows) == 3, period
        assert sum(r.reopened for r in rows) == 1, period


def test_backlog_aging_buckets(history):
    buckets_ = aging(filters.parse({}))
    assert [(b.label, b.open, b.overdue) for b in buckets_] == [
        ("0–2 days", 0, 0),
        ("3–7 days", 0, 0),
        ("8–30 days", 3, 3),
        ("31–90 days", 0, 0),
        ("over 90 days", 0, 0),
    ]
    assert sum(b.open for b in aging(filters.parse({"department": "PARKS"}))) == 2


def _key_figures(fig):
    return (
        fig.volume,
        fig.closed,
        fig.closed_counted,
        fig.within_sla,
        fig.reopened,
        fig.transferred,
        fig.median_hours_to_close,
        fig.p90_hours_to_close_excluding_holds,
        fig.median_hours_to_acknowledge,
    )


@pytest.mark.parametrize("days_back", [20, 45, 400])
def test_every_level_and_the_raw_rows_give_the_same_totals(history, days_back):
    """Day rows, month rows and raw-row reads (for levels kept per month) all agree."""
    rollup.refresh()
    first = (history.today - timedelta(days=days_back)).isoformat()
    seen = set()
    for group_by in filters.GROUP_BYS:
        for extra in ({}, {"district": "1"}):
            totals = kpis.by_group(filters.parse({"from": first, **extra}), group_by).totals
            seen.add((bool(extra), _key_figures(totals)))
    assert len(seen) == 2, seen
    everything = {figures for has_filter, figures in seen if not has_filter}.pop()
    assert everything[:6] == (9, 6, 3, 2, 1, 1)


def test_reads_use_the_smallest_level_that_keeps_what_they_need(history):
    f = filters.parse({})
    assert kpis.level_for(f, "department_id") == DEPARTMENT
    assert kpis.level_for(f, "period") == 0
    with_type = filters.parse({"service_type": "pothole"})
    assert kpis.level_for(with_type, "department_id") == DEPARTMENT | SERVICE_TYPE
    with_district = filters.parse({"district": "1"})
    assert kpis.level_for(with_district, "channel") == FULL


def test_a_range_reaching_the_newest_data_reads_its_last_month_as_one_row(history):
    from datetime import date

    from app.metrics.rollup_reads import data_end, split

    f = filters.Filters(first=date(2026, 3, 1), last=date(2026, 5, 17))
    # nothing after May 17: May's month row holds exactly May 1-17
    assert split(f, data_end=date(2026, 5, 17)) == ((date(2026, 3, 1), date(2026, 6, 1)), [])
    # something on May 18 or later: May 1-17 from the day rows
    assert split(f, data_end=date(2026, 5, 18)) == (
        (date(2026, 3, 1), date(2026, 5, 1)),
        [(date(2026, 5, 1), date(2026, 5, 17))],
    )
    rollup.refresh()
    assert data_end() == history.today
    # read both ways, the figures agree (the range ending yesterday is read from day rows)
    whole = filters.parse({"from": history.first.isoformat()})
    assert kpis.by_group(whole, "channel").totals.volume == 9

"""Percentiles exact from the raw rows when the range holds few durations, from the
histograms otherwise: the switch, its label, and the two agreeing within the stated error."""

from __future__ import annotations

from dataclasses import astuple

import pytest

from app.metrics import buckets, filters, kpis, percentiles, rollup
from tests.helpers import bearer

#: every figure that is not a percentile: the same whichever way the percentiles are read
COUNTS = (
    "volume",
    "acknowledged",
    "closed",
    "closed_counted",
    "closed_duplicate",
    "closed_referred",
    "closed_no_action",
    "within_sla",
    "pct_within_sla",
    "reopened",
    "transferred",
    "reopen_rate",
    "transfer_rate",
    "open_backlog",
    "overdue",
)
PERCENTILES = (
    "median_hours_to_acknowledge",
    "median_hours_to_close",
    "p90_hours_to_close",
    "median_hours_to_close_excluding_holds",
    "p90_hours_to_close_excluding_holds",
)


def counts(fig: kpis.Figures) -> tuple:
    return tuple(getattr(fig, c) for c in COUNTS)


def read(history, group_by="department", **args):
    rollup.refresh()
    return kpis.by_group(filters.parse({"from": history.first.isoformat(), **args}), group_by)


def test_a_range_with_few_durations_gets_exact_percentiles(history):
    report = read(history)
    assert (report.percentiles, report.max_relative_error) == (percentiles.EXACT, 0.0)
    totals = report.totals
    # exactly percentile_cont's: closures of [10, 50, 100] h, net of holds [10, 30, 100] h,
    # acknowledged after [1, 2, 1, 1, 1, 3, 4, 1] h
    assert (totals.median_hours_to_close, totals.p90_hours_to_close) == (50.0, 90.0)
    assert totals.median_hours_to_close_excluding_holds == 30.0
    assert totals.p90_hours_to_close_excluding_holds == 86.0
    assert totals.median_hours_to_acknowledge == 1.0
    rows = {r.key: r for r in report.rows}
    assert rows["PWD"].median_hours_to_close == 50.0
    # Parks' only closure was undone by its reopening: nothing to measure
    assert rows["PARKS"].median_hours_to_close is None
    assert rows["PARKS"].median_hours_to_acknowledge == 4.0  # the graffiti; the streetlight was not


def test_over_the_cap_the_histograms_answer_and_agree_within_their_error(history, app, monkeypatch):
    exact = read(history)
    # 3 counted closures + 8 acknowledged requests: 11 durations to sort
    monkeypatch.setitem(app.config, "METRICS_EXACT_MAX_ROWS", 11)
    assert read(history).percentiles == percentiles.EXACT
    monkeypatch.setitem(app.config, "METRICS_EXACT_MAX_ROWS", 10)
    approx = read(history)
    assert approx.percentiles == percentiles.HISTOGRAM
    assert approx.max_relative_error == pytest.approx(buckets.MAX_RELATIVE_ERROR)
    pairs = [(exact.totals, approx.totals)]
    pairs += list(zip(exact.rows, approx.rows, strict=True))
    for e, a in pairs:
        assert e.key == a.key
        assert counts(e) == counts(a)
        for name in PERCENTILES:
            if getattr(e, name) is None:
                assert getattr(a, name) is None
            else:
                assert getattr(a, name) == pytest.approx(
                    getattr(e, name), rel=buckets.MAX_RELATIVE_ERROR, abs=0.01
                )
    # at least one figure differs: the histogram read really was the other source
    assert astuple(exact.totals) != astuple(approx.totals)


def test_filters_and_periods_are_exact_too(history, app, monkeypatch):
    rollup.refresh()
    f = filters.parse({"from": history.first.isoformat(), "department": "PWD", "channel": "web"})
    totals = kpis.by_group(f, "district").totals
    assert totals.median_hours_to_close == 55.0  # [10, 100] h
    weeks = kpis.trend_report(filters.parse({"from": history.first.isoformat()}), "week")
    assert (weeks.percentiles, weeks.max_relative_error) == (percentiles.EXACT, 0.0)
    monkeypatch.setitem(app.config, "METRICS_EXACT_MAX_ROWS", 0)
    approx = kpis.trend_report(filters.parse({"from": history.first.isoformat()}), "week")
    assert approx.percentiles == percentiles.HISTOGRAM
    assert [counts(w) for w in weeks.rows] == [counts(w) for w in approx.rows]
    for e, a in zip(weeks.rows, approx.rows, strict=True):
        if e.median_hours_to_close is not None:
            assert a.median_hours_to_close == pytest.approx(
                e.median_hours_to_close, rel=buckets.MAX_RELATIVE_ERROR
            )


def test_the_api_and_the_dashboard_say_which_it_is(client, tokens, history, app, monkeypatch):
    rollup.refresh()
    h = bearer(tokens["manager"])
    url = f"/api/v1/metrics/trend?period=week&from={history.first}"
    body = client.get(url, headers=h).get_json()
    assert (body["percentiles"], body["max_relative_error"]) == ("exact", 0)
    monkeypatch.setitem(app.config, "METRICS_EXACT_MAX_ROWS", 0)
    body = client.get(url, headers=h).get_json()
    assert body["percentiles"] == "histogram"
    assert body["max_relative_error"] == pytest.approx(0.0488, abs=1e-4)
    kpis_body = client.get(f"/api/v1/metrics/kpis?from={history.first}", headers=h).get_json()
    assert kpis_body["percentiles"] == "histogram"

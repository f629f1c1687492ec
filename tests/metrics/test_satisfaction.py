"""Satisfaction where asked: the reporters' answers per department and service type, in the
KPI API, its CSV and the dashboard, read by metrics from the survey's table."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest

from app.metrics import rollup
from app.notifications import survey
from app.requests.models import ServiceRequest
from tests.helpers import bearer, sign_in


def answer(sr: ServiceRequest, *, fixed: bool, rating: int | None) -> None:
    closing = survey._last_closing(sr.id)
    assert closing is not None
    survey.record(survey.Ask(sr.id, closing), fixed=fixed, rating=rating, comment="")


@pytest.fixture
def answered(history):
    """Public Works: fixed (5), fixed (2), not fixed (no rating); Parks: fixed (4)."""
    potholes = [history.requests[i] for i in (0, 1, 5)]
    answer(potholes[0], fixed=True, rating=5)
    answer(potholes[1], fixed=True, rating=2)
    answer(potholes[2], fixed=False, rating=None)
    answer(history.requests[6], fixed=True, rating=4)
    rollup.refresh()
    return history


def test_satisfaction_per_department_and_type_in_the_kpi_api(client, tokens, answered):
    h = bearer(tokens["manager"])
    query = f"/api/v1/metrics/kpis?from={answered.first}"
    body = client.get(f"{query}&group_by=department", headers=h).get_json()
    by_key = {r["key"]: r for r in body["rows"]}
    pwd, parks = by_key["PWD"], by_key["PARKS"]
    assert (pwd["satisfaction_responses"], pwd["pct_fixed"]) == (3, 66.7)
    assert (pwd["satisfaction_ratings"], pwd["mean_rating"]) == (2, 3.5)
    assert (parks["satisfaction_responses"], parks["pct_fixed"], parks["mean_rating"]) == (
        1,
        100.0,
        4.0,
    )
    totals = body["totals"]
    assert (totals["satisfaction_responses"], totals["pct_fixed"]) == (4, 75.0)
    assert totals["mean_rating"] == 3.67
    # four answers are far below the default 20: flagged, not a confident number
    assert {"pct_fixed", "mean_rating"} <= set(totals["small_sample"])

    types = client.get(f"{query}&group_by=service_type", headers=h).get_json()
    by_type = {r["key"]: r for r in types["rows"]}
    assert by_type["pothole"]["satisfaction_responses"] == 3
    assert by_type["graffiti"]["pct_fixed"] == 100.0

    # the filters apply: one department, or a range that ends before the answers were given
    only = client.get(f"{query}&group_by=service_type&department=PARKS", headers=h).get_json()
    assert only["totals"]["satisfaction_responses"] == 1
    before = client.get(
        f"{query}&to={answered.today - timedelta(days=1)}&group_by=department", headers=h
    ).get_json()
    assert before["totals"]["satisfaction_responses"] == 0
    assert before["totals"]["pct_fixed"] is None

    csv_text = client.get(f"{query}&group_by=department&format=csv", headers=h).get_data(
        as_text=True
    )
    rows = {r["key"]: r for r in csv.DictReader(io.StringIO(csv_text))}
    assert (rows["PWD"]["pct_fixed"], rows["PWD"]["mean_rating"]) == ("66.7", "3.5")


def test_dashboard_shows_satisfaction_per_department(client, answered):
    sign_in(client, "manager@city.test")
    html = client.get(f"/metrics?from={answered.first}").get_data(as_text=True)
    assert "Satisfied</abbr>" in html
    assert re.search(r'data-label="Satisfied">.*67%\*.*\(3\)', html)
    assert re.search(r'data-label="Rating">.*3\.5\*', html)


def test_metrics_reads_the_answers_without_importing_notifications():
    package = Path(__file__).resolve().parents[2] / "app" / "metrics"
    for path in package.glob("*.py"):
        assert "app.notifications" not in path.read_text(), path.name


def test_the_trend_carries_the_answers_of_each_period(client, tokens, answered):
    h = bearer(tokens["manager"])
    for period in ("day", "week", "month"):
        url = f"/api/v1/metrics/trend?period={period}&from={answered.first}"
        rows = client.get(url, headers=h).get_json()["rows"]
        # every answer was given today: the last period holds them all
        assert sum(r["satisfaction_responses"] for r in rows) == 4, period
        last = rows[-1]
        assert (last["satisfaction_responses"], last["pct_fixed"]) == (4, 75.0), period
        assert last["mean_rating"] == 3.67
        assert "pct_fixed" in last["small_sample"]
        assert all(r["pct_fixed"] is None for r in rows[:-1])
    only = client.get(
        f"/api/v1/metrics/trend?period=month&from={answered.first}&department=PARKS", headers=h
    ).get_json()["rows"]
    assert sum(r["satisfaction_responses"] for r in only) == 1
    csv_text = client.get(
        f"/api/v1/metrics/trend?period=day&from={answered.first}&format=csv", headers=h
    ).get_data(as_text=True)
    last_csv = list(csv.DictReader(io.StringIO(csv_text)))[-1]
    assert (last_csv["satisfaction_responses"], last_csv["pct_fixed"]) == ("4", "75.0")

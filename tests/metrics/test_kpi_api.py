"""The KPI API and pages: JSON and CSV, clear 400s, targets and the scorecard, roles, and a
public page with no personal data."""

from __future__ import annotations

import csv
import io

import pytest

from app.metrics import rollup, targets
from tests.helpers import bearer, sign_in


@pytest.fixture
def rolled(history):
    rollup.refresh()
    return history


def test_kpis_as_json_and_as_the_same_numbers_in_csv(client, tokens, rolled):
    query = f"/api/v1/metrics/kpis?group_by=department&from={rolled.first}"
    resp = client.get(query, headers=bearer(tokens["manager"]))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["totals"]["volume"] == 9 and body["totals"]["pct_within_sla"] == 66.7
    # nine requests: the medians and p90s are exact, and say so
    assert (body["percentiles"], body["max_relative_error"]) == ("exact", 0)
    assert body["min_sample"] == 20
    assert "median_hours_to_close" in body["totals"]["small_sample"]
    by_key = {r["key"]: r for r in body["rows"]}

    resp = client.get(query + "&format=csv", headers=bearer(tokens["admin"]))
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert [r["name"] for r in rows][-1] == "All"
    for row in rows[:-1]:
        assert int(row["volume"]) == by_key[row["key"]]["volume"]
        assert row["median_hours_to_close"] == str(
            by_key[row["key"]]["median_hours_to_close"] or ""
        )


def test_trend_backlog_map_and_scorecard_endpoints(client, tokens, rolled):
    h = bearer(tokens["manager"])
    trend = client.get(f"/api/v1/metrics/trend?period=week&from={rolled.first}", headers=h)
    assert sum(r["volume"] for r in trend.get_json()["rows"]) == 9
    backlog = client.get("/api/v1/metrics/backlog", headers=h).get_json()
    assert [b["open"] for b in backlog["buckets"]] == [0, 0, 3, 0, 0]
    points = client.get("/api/v1/metrics/map?department=PARKS", headers=h).get_json()
    assert points["total_open"] == 2 and len(points["points"]) == 2
    assert set(points["points"][0]) == {"id", "lat", "long", "service_type", "overdue"}
    limited = client.get("/api/v1/metrics/map?page_size=1", headers=h).get_json()
    assert (limited["total_open"], len(limited["points"])) == (3, 1)
    csv_text = client.get("/api/v1/metrics/backlog?format=csv", headers=h).get_data(as_text=True)
    assert csv_text.splitlines()[0] == "label,open,overdue"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-03-01&to=2026-02-01", "must not be after to"),
        ("from=yesterday", "from must be a date like"),
        ("department=NOPE", "There is no department 'NOPE'"),
        ("district=99", "There is no district '99'"),
        ("service_type=unicorn", "There is no service type 'unicorn'"),
        ("channel=pigeon", "channel must be one of"),
        ("group_by=colour", "group_by must be one of"),
        ("format=xls", "format must be one of"),
    ],
)
def test_bad_filters_are_a_clear_400(client, tokens, city, query, message):
    resp = client.get(f"/api/v1/metrics/kpis?{query}", headers=bearer(tokens["manager"]))
    assert resp.status_code == 400
    assert message in resp.get_json()["message"]


def test_page_size_over_the_limit_is_a_400(client, tokens, city):
    resp = client.get("/api/v1/metrics/map?page_size=999999", headers=bearer(tokens["manager"]))
    assert resp.status_code == 400
    assert "page_size may be at most 5000" in resp.get_json()["message"]


def test_only_managers_and_admins_read_the_kpis(client, tokens, city):
    assert client.get("/api/v1/metrics/kpis").status_code == 401
    for role in ("agent", "dispatcher", "crew"):
        resp = client.get("/api/v1/metrics/kpis", headers=bearer(tokens[role]))
        assert resp.status_code == 403, role
    assert client.get("/api/v1/metrics/kpis", headers=bearer(tokens["admin"])).status_code == 200
    sign_in(client, "dispatcher@city.test")
    assert client.get("/metrics/targets").status_code == 403


@pytest.mark.parametrize(
    ("kpi", "actual", "target", "amber", "state"),
    [
        ("pct_within_sla", 92.0, 90, 5, "green"),
        ("pct_within_sla", 90.0, 90, 5, "green"),
        ("pct_within_sla", 86.0, 90, 5, "amber"),
        ("pct_within_sla", 84.9, 90, 5, "red"),
        ("median_hours_to_close", 40.0, 48, 12, "green"),
        ("median_hours_to_close", 55.0, 48, 12, "amber"),
        ("median_hours_to_close", 60.1, 48, 12, "red"),
        ("reopen_rate", None, 5, 1, "none"),
    ],
)
def test_red_amber_green(kpi, actual, target, amber, state):
    assert targets.rag(kpi, actual, target, amber) == state


def test_targets_set_by_api_and_scored_against_the_previous_period(
    client, tokens, rolled, app, monkeypatch
):
    monkeypatch.setitem(app.config, "METRICS_MIN_SAMPLE", 1)
    h = bearer(tokens["manager"])
    resp = client.put(
        "/api/v1/metrics/targets",
        json={"kpi": "pct_within_sla", "department": "PWD", "target": 90, "amber": 30},
        headers=h,
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["department"] == "PWD"
    client.put(
        "/api/v1/metrics/targets",
        json={"kpi": "median_hours_to_close", "service_type": "pothole", "target": 24},
        headers=h,
    )
    bad = client.put(
        "/api/v1/metrics/targets",
        json={
            "kpi": "pct_within_sla",
            "department": "PWD",
            "service_type": "pothole",
            "target": 90,
        },
        headers=h,
    )
    assert bad.status_code == 400
    assert (
        client.put(
            "/api/v1/metrics/targets",
            json={"kpi": "pct_within_sla", "department": "PWD", "target": 190},
            headers=h,
        ).status_code
        == 400
    )

    # 21 days ending today; the previous 21 days hold no requests
    score = client.get(f"/api/v1/metrics/scorecard?from={rolled.first}", headers=h).get_json()
    lines = {line["kpi"]: line for line in score["lines"]}
    sla = lines["pct_within_sla"]
    assert (sla["actual"], sla["target"], sla["state"]) == (66.7, 90, "amber")
    assert sla["previous"] is None and sla["change"] is None
    median = lines["median_hours_to_close"]
    assert median["state"] == "red" and median["subject"] == "Pothole"
    # a target replaced, not duplicated
    client.put(
        "/api/v1/metrics/targets",
        json={"kpi": "pct_within_sla", "department": "PWD", "target": 60},
        headers=h,
    )
    listed = client.get("/api/v1/metrics/targets", headers=h).get_json()
    assert len(listed) == 2
    score = client.get(f"/api/v1/metrics/scorecard?from={rolled.first}", headers=h).get_json()
    assert {x["kpi"]: x["state"] for x in score["lines"]}["pct_within_sla"] == "green"
    target_id = listed[0]["id"]
    assert client.delete(f"/api/v1/metrics/targets/{target_id}", headers=h).status_code == 204


def test_targets_page_sets_a_target_and_reports_bad_input(client, city):
    sign_in(client, "manager@city.test")
    page = client.get("/metrics/targets")
    assert page.status_code == 200 and "Set a target" in page.get_data(as_text=True)
    resp = client.post(
        "/metrics/targets",
        data={"kpi": "pct_within_sla", "subject": "department:PWD", "target": "abc"},
    )
    assert resp.status_code == 400 and "target must be a number" in resp.get_data(as_text=True)
    resp = client.post(
        "/metrics/targets",
        data={"kpi": "pct_within_sla", "subject": "department:PWD", "target": "85", "amber": "5"},
    )
    assert resp.status_code == 302
    assert "% closed within SLA" in client.get("/metrics/targets").get_data(as_text=True)
    assert len(targets.all_targets()) == 1


def test_dashboard_shows_the_scorecard_charts_and_tables(client, rolled):
    targets.set_target(kpi="pct_within_sla", department="PWD", target=90, amber=5)
    sign_in(client, "manager@city.test")
    html = client.get(f"/metrics?from={rolled.first}").get_data(as_text=True)
    assert "<h1>Performance dashboard</h1>" in html
    assert "<span>Requests</span><strong>9</strong>" in html
    assert 'class="rag rag-small_sample"' in html  # 3 closures are too few to score
    for canvas in ("chart-trend", "chart-departments", "chart-aging"):
        assert f'id="{canvas}"' in html
    assert html.count("Download CSV") >= 7
    assert "vendor/chart.js/chart.umd.min.js" in html
    assert "private.reporter@example.org" not in html
    bad = client.get("/metrics?from=2026-05-01&to=2026-04-01")
    assert bad.status_code == 400


def test_public_page_shows_aggregates_only_without_login(client, rolled):
    resp = client.get("/performance")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "How Testville 311 is doing" in html or "311 is doing" in html
    assert "<span>Reports</span><strong>9</strong>" in html
    assert "Pothole" in html and "Ward 1" in html
    assert 'id="chart-public-trend"' in html and "data-series=" in html
    for private in ("private.reporter@example.org", "Rita Private", "Private words", "555-0199"):
        assert private not in html
    for rq in rolled.requests:
        assert f"#{rq.id}" not in html and f"/requests/{rq.id}" not in html


def test_dashboard_reads_its_panels_with_the_session_not_the_api(client, rolled):
    sign_in(client, "manager@city.test")
    # the JSON API takes bearer tokens only; the page has its own data routes
    assert client.get("/api/v1/metrics/kpis").status_code == 401
    body = client.get(f"/metrics/data/kpis?from={rolled.first}").get_json()
    assert body["totals"]["volume"] == 9
    resp = client.get(f"/metrics/data/trend?period=month&from={rolled.first}&format=csv")
    assert resp.mimetype == "text/csv" and resp.get_data(as_text=True).startswith("key,name,")
    assert client.get("/metrics/data/passwords").status_code == 404
    assert client.get("/metrics/data/kpis?department=NOPE").status_code == 400

from datetime import datetime, timedelta

import pytest

from app.core.clock import utcnow
from tests.helpers import bearer
from tests.metrics.test_service import make_request

URL = "/api/v1/metrics/response-times"


@pytest.mark.parametrize(
    "role, status",
    [
        (None, 401),
        ("agent", 403),
        ("dispatcher", 403),
        ("parks_dispatcher", 403),
        ("crew", 403),
        ("manager", 200),
        ("admin", 200),
    ],
)
def test_who_may_read_metrics(client, tokens, role, status):
    headers = bearer(tokens[role]) if role else {}
    resp = client.get(URL, headers=headers)
    assert resp.status_code == status
    if status != 200:
        assert resp.get_json()["message"]


def test_response_shape_and_figures(client, tokens):
    now = utcnow()
    make_request("pothole", now - timedelta(days=3), ack_hours=1, close_hours=20)
    make_request("pothole", now - timedelta(days=5), ack_hours=1, close_hours=100)
    make_request("graffiti", now - timedelta(days=1))
    start = (now - timedelta(days=7)).isoformat()
    resp = client.get(
        URL,
        query_string={"group_by": "service_type", "start": start, "end": now.isoformat()},
        headers=bearer(tokens["manager"]),
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["group_by"] == "service_type"
    assert datetime.fromisoformat(body["start"]) == now - timedelta(days=7)
    assert datetime.fromisoformat(body["end"]) == now
    assert datetime.fromisoformat(body["generated_at"]) >= now
    pothole = next(r for r in body["rows"] if r["key"] == "pothole")
    assert pothole == {
        "key": "pothole",
        "name": "Pothole",
        "requests": 2,
        "closed": 2,
        "closed_fixed": 2,
        "closed_other": 0,
        "median_hours_to_close": 60.0,
        "p90_hours_to_close": 92.0,
        # nothing was held: the same
        "median_hours_to_close_excluding_holds": 60.0,
        "p90_hours_to_close_excluding_holds": 92.0,
        "pct_closed_within_sla": 50.0,
        "open_backlog": 0,
        "overdue_open": 0,
        "median_hours_to_acknowledge": 1.0,
    }
    assert body["totals"]["requests"] == 3 and body["totals"]["open_backlog"] == 1
    # aggregates only: nothing about the reporters
    assert "private.reporter@example.org" not in resp.get_data(as_text=True)


def test_group_by_department_is_the_default(client, tokens):
    body = client.get(URL, headers=bearer(tokens["admin"])).get_json()
    assert body["group_by"] == "department"
    assert {r["key"] for r in body["rows"]} >= {"PWD", "PARKS"}
    end, start = datetime.fromisoformat(body["end"]), datetime.fromisoformat(body["start"])
    assert end - start == timedelta(days=90)


def test_department_filter(client, tokens):
    resp = client.get(
        URL,
        query_string={"group_by": "service_type", "department": "PARKS"},
        headers=bearer(tokens["manager"]),
    )
    assert [r["key"] for r in resp.get_json()["rows"]] == ["graffiti"]
    resp = client.get(URL, query_string={"department": "FIRE"}, headers=bearer(tokens["manager"]))
    assert resp.status_code == 400
    assert "There is no department 'FIRE'" in resp.get_json()["message"]


@pytest.mark.parametrize(
    "query, field, message",
    [
        ({"group_by": "ward"}, "group_by", "group_by must be one of: department, service_type"),
        ({"start": "last tuesday"}, "start", "ISO 8601"),
        ({"start": "2026-01-01T00:00:00"}, "start", "Add a UTC offset"),
    ],
)
def test_bad_query_gets_422_saying_what_to_fix(client, tokens, query, field, message):
    resp = client.get(URL, query_string=query, headers=bearer(tokens["manager"]))
    assert resp.status_code == 422
    errors = resp.get_json()["errors"]["query"][field]
    assert any(message in e for e in errors), errors


def test_start_after_end_is_400(client, tokens):
    resp = client.get(
        URL,
        query_string={"start": "2026-02-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
        headers=bearer(tokens["manager"]),
    )
    assert resp.status_code == 400
    assert resp.get_json()["message"] == "start must be before end."

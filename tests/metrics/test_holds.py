"""Time to close, raw and excluding holds: a hold stops the clock the KPIs read too.

Each request is held through the real lifecycle (put_on_hold / resume, or closed while on
hold), with the hold's start backdated as tests/requests/test_holds.py does; its report and
closure times are then pinned so that the figures are exact.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from app.core.clock import utcnow
from app.extensions import db
from app.metrics import service
from app.requests import lifecycle
from app.requests.models import ServiceRequest
from tests.factories import submit
from tests.helpers import bearer, sign_in


def held_request(requested_at: datetime, *, held_hours: float, close_hours: float, resume: bool):
    """Hold a pothole report for `held_hours`, close it; pin it closed `close_hours` after."""
    sr = submit("pothole", requested_at=requested_at)
    if held_hours:
        held = lifecycle.put_on_hold(sr, actor_id=None, reason="materials", note="Awaiting asphalt")
        sr.held_since = held.at - timedelta(hours=held_hours)
        if resume:
            lifecycle.resume(sr, actor_id=None)
    # closing a request still on hold ends its pause, and counts it
    lifecycle.close(sr, reason="fixed", actor_id=None, note="Filled")
    db.session.execute(
        update(ServiceRequest)
        .where(ServiceRequest.id == sr.id)
        .values(closed_at=requested_at + timedelta(hours=close_hours))
    )
    db.session.flush()
    db.session.refresh(sr)
    return sr


@pytest.fixture
def held(city):
    """Three potholes (72 h SLA): held 30 h and resumed, held 20 h until closed, never held."""
    now = utcnow()
    return [
        held_request(now - timedelta(days=9), held_hours=30, close_hours=100, resume=True),
        held_request(now - timedelta(days=8), held_hours=20, close_hours=50, resume=False),
        held_request(now - timedelta(days=7), held_hours=0, close_hours=80, resume=False),
    ]


def net_hours(sr: ServiceRequest) -> float:
    return (sr.closed_at - sr.requested_at).total_seconds() / 3600 - sr.held_seconds / 3600


def test_time_to_close_is_reported_raw_and_excluding_holds(held):
    first, second, never = held
    assert 30 * 3600 <= first.held_seconds < 30 * 3600 + 60
    assert 20 * 3600 <= second.held_seconds < 20 * 3600 + 60
    assert never.held_seconds == 0

    pothole = {r.key: r for r in service.response_times("service_type").rows}["pothole"]
    # the resident's wait: 100, 50 and 80 hours
    assert (pothole.median_hours_to_close, pothole.p90_hours_to_close) == (80.0, 96.0)
    # the department's part of it: about 70, 30 and 80 hours
    net = sorted(net_hours(sr) for sr in held)
    assert net[0] == pytest.approx(30, abs=0.02) and net[1] == pytest.approx(70, abs=0.02)
    assert pothole.median_hours_to_close_excluding_holds == round(net[1], 2)
    assert pothole.p90_hours_to_close_excluding_holds == round(net[1] + 0.8 * (80 - net[1]), 2)


def test_within_sla_reads_the_due_time_the_holds_moved(held):
    first, second, never = held
    # 100 h to close on a 72 h target, but 30 h of it on hold: due at about 102 h
    assert first.due_at - first.requested_at == timedelta(hours=72, seconds=first.held_seconds)
    assert first.closed_at <= first.due_at and second.closed_at <= second.due_at
    assert never.closed_at > never.due_at
    pothole = {r.key: r for r in service.response_times("service_type").rows}["pothole"]
    assert pothole.pct_closed_within_sla == round(100 * 2 / 3, 1)


def test_api_and_dashboard_show_both(client, tokens, held):
    resp = client.get(
        "/api/v1/metrics/response-times",
        query_string={"group_by": "department"},
        headers=bearer(tokens["manager"]),
    )
    pwd = next(r for r in resp.get_json()["rows"] if r["key"] == "PWD")
    assert pwd["median_hours_to_close"] == 80.0
    assert pwd["median_hours_to_close_excluding_holds"] == pytest.approx(70, abs=0.02)
    assert pwd["p90_hours_to_close_excluding_holds"] == pytest.approx(78, abs=0.02)

    sign_in(client, "manager@city.test")
    html = client.get("/metrics/exact").get_data(as_text=True)
    assert "<span>Median to close</span><strong>3.3 d</strong>" in html  # 80 h
    assert "<span>Median to close, excl. holds</span><strong>2.9 d</strong>" in html  # 70 h
    assert "Median to close, excl. holds</abbr></th>" in html
    assert "<td>3.3 d</td>\n        <td>4.0 d</td>\n        <td>2.9 d</td>" in html

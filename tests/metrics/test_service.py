"""Response-time KPIs over a crafted set of requests with known timestamps."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from app.core.clock import utcnow
from app.core.errors import DomainError
from app.extensions import db
from app.metrics import service
from app.requests import service as requests_service
from app.requests.models import ServiceRequest
from tests.factories import WARD_1_POINT, WARD_2_POINT, submit


def percentile_cont(values: list[float], q: float) -> float:
    """Linear interpolation between the closest ranks, as PostgreSQL's percentile_cont."""
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def expected_hours(values: list[float], q: float) -> float:
    return round(percentile_cont(values, q), 2)


def make_request(
    code: str,
    requested_at: datetime,
    *,
    point: tuple[float, float] = WARD_1_POINT,
    channel: str = "web",
    ack_hours: float | None = None,
    close_hours: float | None = None,
    reason: str = "fixed",
    due_hours: float | None = None,
) -> int:
    """Store a request, then pin its timestamps to exact hours after requested_at."""
    sr = submit(
        code,
        point,
        channel=channel,
        requested_at=requested_at,
        description="Test request",
        email="private.reporter@example.org",
    )
    request_id = sr.id
    if close_hours is not None:
        requests_service.close(sr, reason=reason, actor_id=None, note="Done")
    elif ack_hours is not None:
        requests_service.acknowledge(sr, actor_id=None)
    values: dict[str, object] = {}
    if ack_hours is not None:
        values["acknowledged_at"] = requested_at + timedelta(hours=ack_hours)
    if close_hours is not None:
        values["closed_at"] = requested_at + timedelta(hours=close_hours)
    if due_hours is not None:
        values["due_at"] = requested_at + timedelta(hours=due_hours)
    if values:
        db.session.execute(
            update(ServiceRequest).where(ServiceRequest.id == request_id).values(**values)
        )
    db.session.expire_all()
    return request_id


@pytest.fixture
def now() -> datetime:
    return utcnow()


@pytest.fixture
def dataset(city, now):
    """Requests of PWD (pothole 72 h SLA, streetlight) and PARKS (graffiti 168 h SLA)."""
    d = timedelta(days=1)
    # pothole, due 72 h after the request
    make_request("pothole", now - 20 * d, ack_hours=1, close_hours=10)
    make_request("pothole", now - 19 * d, ack_hours=3, close_hours=30, channel="phone")
    make_request("pothole", now - 18 * d, ack_hours=0.5, close_hours=80)  # late
    make_request(
        "pothole", now - 17 * d, ack_hours=2, close_hours=50, reason="duplicate", point=WARD_2_POINT
    )
    make_request("pothole", now - 10 * d, ack_hours=2, channel="phone")  # open, overdue
    make_request("pothole", now - timedelta(hours=1))  # open, new, not yet due
    # requested and closed before the window: counts nowhere
    make_request("pothole", now - 40 * d, ack_hours=1, close_hours=5 * 24)
    # requested before the window, closed in it: a closure (840 h, late), not a request
    make_request("pothole", now - 40 * d, ack_hours=1, close_hours=35 * 24)
    # requested before the window and still open: backlog and overdue
    make_request("pothole", now - 45 * d, point=WARD_2_POINT)
    # streetlight, due pinned to 120 h so the business-day clock does not blur the figures
    make_request("streetlight", now - 15 * d, ack_hours=24, close_hours=100, due_hours=120)
    make_request(
        "streetlight",
        now - 14 * d,
        ack_hours=4,
        close_hours=130,
        due_hours=120,
        reason="referred",
        point=WARD_2_POINT,
    )
    # graffiti: nothing closed
    make_request("graffiti", now - 12 * d, ack_hours=5, point=WARD_2_POINT)  # overdue
    make_request("graffiti", now - 2 * d, channel="phone")
    return city


def window(now):
    return now - timedelta(days=30), now


def by_key(report):
    return {row.key: row for row in report.rows}


PWD_CLOSE = [10, 30, 80, 50, 840, 100, 130]
PWD_ACK = [1, 3, 0.5, 2, 2, 24, 4]


def test_per_department(dataset, now):
    report = service.response_times("department", *window(now))
    rows = by_key(report)
    pwd, parks = rows["PWD"], rows["PARKS"]

    assert (pwd.name, pwd.requests, pwd.closed, pwd.closed_fixed, pwd.closed_other) == (
        "Public Works",
        8,
        7,
        5,
        2,
    )
    assert pwd.median_hours_to_close == expected_hours(PWD_CLOSE, 0.5) == 80
    assert pwd.p90_hours_to_close == expected_hours(PWD_CLOSE, 0.9)
    assert pwd.pct_closed_within_sla == round(100 * 4 / 7, 1)
    assert (pwd.open_backlog, pwd.overdue_open) == (3, 2)
    assert pwd.median_hours_to_acknowledge == expected_hours(PWD_ACK, 0.5)

    assert (parks.requests, parks.closed, parks.open_backlog, parks.overdue_open) == (2, 0, 2, 1)
    # nothing closed: no time to close and no SLA share, rather than a misleading 0
    assert parks.median_hours_to_close is None and parks.p90_hours_to_close is None
    assert parks.pct_closed_within_sla is None
    assert parks.median_hours_to_acknowledge == 5


def test_per_service_type(dataset, now):
    rows = by_key(service.response_times("service_type", *window(now)))
    pothole, light, graffiti = rows["pothole"], rows["streetlight"], rows["graffiti"]

    pothole_close = [10, 30, 80, 50, 840]
    assert (pothole.requests, pothole.closed, pothole.closed_fixed, pothole.closed_other) == (
        6,
        5,
        4,
        1,
    )
    assert pothole.median_hours_to_close == expected_hours(pothole_close, 0.5)
    assert pothole.p90_hours_to_close == expected_hours(pothole_close, 0.9)
    assert pothole.pct_closed_within_sla == 60.0
    assert (pothole.open_backlog, pothole.overdue_open) == (3, 2)
    assert pothole.median_hours_to_acknowledge == expected_hours([1, 3, 0.5, 2, 2], 0.5)

    assert (light.requests, light.closed, light.closed_fixed, light.closed_other) == (2, 2, 1, 1)
    assert light.median_hours_to_close == 115
    assert light.p90_hours_to_close == expected_hours([100, 130], 0.9) == 127
    assert light.pct_closed_within_sla == 50.0
    assert (light.open_backlog, light.overdue_open) == (0, 0)

    assert (graffiti.requests, graffiti.closed, graffiti.open_backlog) == (2, 0, 2)


def test_totals(dataset, now):
    totals = service.response_times("service_type", *window(now)).totals
    assert totals.key is None and totals.name == "All"
    assert (totals.requests, totals.closed, totals.closed_fixed, totals.closed_other) == (
        10,
        7,
        5,
        2,
    )
    assert totals.median_hours_to_close == expected_hours(PWD_CLOSE, 0.5)
    assert totals.p90_hours_to_close == expected_hours(PWD_CLOSE, 0.9)
    assert totals.pct_closed_within_sla == round(100 * 4 / 7, 1)
    assert (totals.open_backlog, totals.overdue_open) == (5, 3)
    assert totals.median_hours_to_acknowledge == expected_hours([*PWD_ACK, 5], 0.5) == 2.5


def test_per_district_and_channel_add_up(dataset, now):
    wards = by_key(service.response_times("district", *window(now)))
    assert (wards["1"].requests, wards["2"].requests) == (7, 3)
    assert (wards["1"].open_backlog, wards["2"].open_backlog) == (3, 2)
    assert wards["2"].closed == 2 and wards["2"].closed_fixed == 0

    channels = service.response_times("channel", *window(now))
    counts = {row.key: row.requests for row in channels.rows}
    assert (counts["web"], counts["phone"], counts["api"]) == (7, 3, 0)
    assert channels.totals.requests == 10


def test_department_filter(dataset, now):
    report = service.response_times("service_type", *window(now), department_id=dataset.parks.id)
    assert [row.key for row in report.rows] == ["graffiti"]
    assert (report.totals.requests, report.totals.open_backlog) == (2, 2)


def test_window_moves_what_counts(dataset, now):
    last_week = service.response_times("department", now - timedelta(days=7), now)
    pwd = by_key(last_week)["PWD"]
    # only the pothole from an hour ago was requested, only the 840 h one closed this week
    assert (pwd.requests, pwd.closed, pwd.median_hours_to_close) == (1, 1, 840)
    assert pwd.open_backlog == 3  # backlog is as of now, whatever the window


def test_default_window_is_90_days(dataset, now):
    report = service.response_times()
    assert report.group_by == "department"
    assert timedelta(days=90) == report.end - report.start
    assert report.totals.requests == 13  # everything above was requested within 90 days


def test_reopened_request_is_open_again(dataset, now):
    sr = requests_service.get_request(
        db.session.scalars(
            db.select(ServiceRequest.id).where(ServiceRequest.closure_reason == "referred")
        ).one()
    )
    requests_service.reopen(sr, actor_id=None, note="Not fixed")
    light = by_key(service.response_times("service_type", *window(now)))["streetlight"]
    assert (light.closed, light.open_backlog) == (1, 1)


def test_overdue_is_what_a_request_calls_overdue(dataset, now):
    """The dashboard counts, per department, the requests whose is_overdue is true."""
    report = service.response_times("department", *window(now))
    expected = {row.key: 0 for row in report.rows}
    for sr in db.session.scalars(db.select(ServiceRequest)):
        expected[sr.department.code] += sr.is_overdue
    assert {row.key: row.overdue_open for row in report.rows} == expected
    assert report.totals.overdue_open == sum(expected.values()) == 3


def test_bad_arguments_are_refused(city, now):
    with pytest.raises(DomainError, match="group_by must be one of department, service_type"):
        service.response_times("ward", now - timedelta(days=1), now)
    with pytest.raises(DomainError, match="start must be before end"):
        service.response_times("department", now, now - timedelta(days=1))


def test_one_query_per_report(dataset, now):
    from sqlalchemy import event

    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine_or_conn = db.session.connection()
    event.listen(engine_or_conn, "before_cursor_execute", count)
    try:
        service.response_times("service_type", *window(now))
    finally:
        event.remove(engine_or_conn, "before_cursor_execute", count)
    assert len(statements) == 1

"""The open backlog is exact and live: the open counts the triggers keep in step, and the
age buckets read from them and from the young requests, against a count of every open
request after each kind of change."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from app.core.clock import utcnow
from app.extensions import db
from app.metrics import backlog, filters, open_counts, rollup
from app.requests import lifecycle, transfer
from app.requests.models import ServiceRequest
from tests.factories import WARD_2_POINT, submit
from tests.metrics.conftest import make

DIMS = "department_id, service_type_id, district_id, channel"


def counted() -> dict[tuple, int]:
    """The open counts as the backlog reads them (counts plus pending deltas)."""
    rows = db.session.execute(
        text(f"SELECT {DIMS}, sum(n) FROM {open_counts.OPEN_COUNTS} GROUP BY {DIMS}")
    )
    return {tuple(r[:4]): int(r[4]) for r in rows if r[4]}


def every_open() -> dict[tuple, int]:
    rows = db.session.execute(
        text(
            f"SELECT {DIMS}, count(*) FROM service_requests WHERE status <> 'closed'"
            f" GROUP BY {DIMS}"
        )
    )
    return {tuple(r[:4]): int(r[4]) for r in rows}


def by_hand(f: filters.Filters) -> list[tuple[str, int, int]]:
    """Each open request's age in days and whether it is overdue, bucketed in Python."""
    conditions, params = f.sql()
    rows = db.session.execute(
        text(
            "SELECT EXTRACT(EPOCH FROM (now() - requested_at)) / 86400 AS age,"
            " due_at < now() AS overdue FROM service_requests"
            f" WHERE status <> 'closed'{conditions}"
        ),
        params,
    ).all()
    out = []
    for label, lo, hi in backlog.AGE_BUCKETS:
        inside = [r for r in rows if r.age >= lo and (hi is None or r.age < hi)]
        out.append((label, len(inside), sum(1 for r in inside if r.overdue)))
    return out


def test_the_open_counts_follow_every_kind_of_change(history):
    assert counted() == every_open()
    fresh = submit("pothole", WARD_2_POINT, channel="phone")
    assert counted() == every_open()
    lifecycle.close(fresh, reason="fixed", actor_id=None, note="")
    db.session.flush()
    assert counted() == every_open()
    closed = history.requests[0]
    lifecycle.reopen(closed, actor_id=None, note="Came back")
    db.session.flush()
    assert counted() == every_open()
    transfer.transfer(history.requests[8], service_code="graffiti", note="Parks", actor_id=None)
    db.session.flush()
    assert counted() == every_open()
    # a bulk statement, and a delete
    db.session.execute(text("UPDATE service_requests SET channel = 'api' WHERE channel = 'web'"))
    db.session.execute(
        text("DELETE FROM service_requests WHERE id = :id"), {"id": history.requests[7].id}
    )
    assert counted() == every_open()
    # folding the deltas into the counts changes nothing but their number
    assert open_counts.fold() > 0
    assert counted() == every_open()
    assert db.session.execute(text("SELECT count(*) FROM metrics_open_deltas")).scalar() == 0
    rollup.refresh()
    open_counts.recount()
    assert counted() == every_open()


def test_aging_and_open_counts_equal_a_count_of_every_open_request(history):
    now = utcnow()
    for days in (0.5, 2.9, 3.1, 7.5, 12, 45, 90.5, 91.5, 200, 400):
        make("pothole", now - timedelta(days=days), ack=1)
    make("graffiti", now - timedelta(days=150), point=WARD_2_POINT, channel="phone")
    # old, yet not due: the oldest bucket's overdue count must not include these
    for days in (120, 300):
        sr = make("pothole", now - timedelta(days=days))
        sr.due_at = now + timedelta(days=3)
    db.session.flush()
    open_counts.fold()
    make("streetlight", now - timedelta(days=95))  # a delta not folded yet
    for args in ({}, {"department": "PWD"}, {"district": "2"}, {"channel": "phone"}):
        f = filters.parse(args)
        got = [(b.label, b.open, b.overdue) for b in backlog.aging(f)]
        assert got == by_hand(f), args
        total = sum(b.open for b in backlog.aging(f))
        assert backlog.open_total(f) == total
        assert backlog.points(f, 5000)[1] == total
    everything = backlog.aging(filters.parse({}))
    # 91.5, 95, 120, 150, 200, 300 and 400 days old; two of them not due yet
    assert (everything[-1].open, everything[-1].overdue) == (7, 5)
    by_type = backlog.open_by_group(filters.parse({}), "service_type_id")
    hand = db.session.execute(
        text(
            "SELECT service_type_id, count(*), count(*) FILTER (WHERE due_at < now())"
            " FROM service_requests WHERE status <> 'closed' GROUP BY 1"
        )
    ).all()
    assert by_type == {r[0]: (r[1], r[2]) for r in hand}


def test_a_request_closed_no_longer_counts_anywhere(history):
    f = filters.parse({})
    before = backlog.open_total(f)
    sr = db.session.get(ServiceRequest, history.requests[8].id)
    lifecycle.close(sr, reason="fixed", actor_id=None, note="")
    db.session.flush()
    assert backlog.open_total(f) == before - 1
    assert sum(b.open for b in backlog.aging(f)) == before - 1

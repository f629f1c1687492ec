"""The bulk importer of historical requests, against the standard test city."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from app.core.errors import DomainError
from app.extensions import db
from app.requests.importer import HistoricalRequest, import_requests
from app.requests.models import RequestEvent, ServiceRequest
from tests.factories import OUTSIDE_POINT, WARD_1_POINT, WARD_2_POINT

OPENED = datetime(2011, 7, 1, 9, 30, tzinfo=UTC)


def row(point=WARD_1_POINT, **kw) -> HistoricalRequest:
    kw.setdefault("service_code", "pothole")
    kw.setdefault("description", "Pothole")
    kw.setdefault("requested_at", OPENED)
    return HistoricalRequest(lat=point[0], long=point[1], **kw)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_import_keeps_history_routes_and_keeps_outside_points_unlocated(city):
    closed_at = OPENED + timedelta(hours=5)
    result = import_requests(
        [
            row(
                WARD_2_POINT,
                due_at=OPENED + timedelta(hours=10),
                closed_at=closed_at,
                closure_reason="fixed",
                closure_note="Filled",
                source={"source_id": "A1"},
            ),
            row(OUTSIDE_POINT),
            row(WARD_1_POINT, service_code="graffiti", department_code="PWD"),
        ]
    )
    assert (result.imported, result.unlocated) == (3, 1)
    closed, outside, open_ = (db.session.get(ServiceRequest, i) for i in result.ids)
    # kept, so that the figures count it, but placed nowhere
    assert (outside.location, outside.district_id) == (None, None)

    assert (closed.status, closed.channel, closed.district_id) == (
        "closed",
        "import",
        city.ward2.id,
    )
    assert (closed.requested_at, closed.closed_at) == (OPENED, closed_at)
    assert closed.due_at == OPENED + timedelta(hours=10)
    assert (closed.closure_reason, closed.closure_note) == ("fixed", "Filled")
    events = [(e.kind, e.at, e.to_status) for e in closed.events]
    assert events == [("created", OPENED, "new"), ("closed", closed_at, "closed")]
    assert closed.events[0].data["source_id"] == "A1"
    assert closed.events[1].data["reason"] == "fixed"

    # no recorded due time: the type's SLA (7 days for graffiti) gives it
    assert (open_.status, open_.closed_at, open_.district_id) == ("new", None, city.ward1.id)
    assert open_.due_at == OPENED + timedelta(hours=7 * 24)
    # the department it had then, not the type's current owner
    assert open_.department_id == city.public_works.id
    assert [e.kind for e in open_.events] == ["created"]


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"service_code": "nope"}, "unknown service code"),
        ({"department_code": "NOPE"}, "unknown department"),
        ({"channel": "fax"}, "unknown channel"),
        ({"requested_at": datetime(2011, 7, 1)}, "timezone"),
        ({"closed_at": OPENED, "closure_reason": "gone"}, "needs a reason"),
    ],
)
def test_a_bad_row_stores_nothing(city, bad, message):
    before = (count(ServiceRequest), count(RequestEvent))
    with pytest.raises(DomainError, match=message):
        import_requests([row(), row(WARD_2_POINT, **bad)])
    assert (count(ServiceRequest), count(RequestEvent)) == before


def test_five_thousand_rows_import_in_seconds(city):
    rows = [
        row(
            WARD_1_POINT if i % 2 else WARD_2_POINT,
            requested_at=OPENED + timedelta(minutes=i),
            closed_at=OPENED + timedelta(minutes=i, hours=3) if i % 3 else None,
            closure_reason="fixed" if i % 3 else None,
        )
        for i in range(5000)
    ]
    started = time.monotonic()
    result = import_requests(rows)
    elapsed = time.monotonic() - started
    assert result.imported == 5000
    assert elapsed < 10, f"importing 5,000 rows took {elapsed:.1f} s"
    assert result.ids == sorted(result.ids)
    closed = db.session.scalar(
        select(func.count())
        .select_from(RequestEvent)
        .where(RequestEvent.kind == "closed", RequestEvent.request_id.in_(result.ids))
    )
    assert closed == sum(1 for i in range(5000) if i % 3)


def test_import_gathers_the_planner_statistics(city):
    """The planner knows the imported rows at once: no guessing (nor JIT) on a stale size."""
    import_requests([row(requested_at=datetime(1999, 1, d, tzinfo=UTC)) for d in range(1, 29)])
    bounds = db.session.execute(
        text(
            "SELECT concat(histogram_bounds::text, most_common_vals::text) FROM pg_stats "
            "WHERE tablename = 'service_requests' AND attname = 'requested_at'"
        )
    ).scalar()
    assert bounds is not None and "1999-01-" in bounds

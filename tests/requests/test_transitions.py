"""The status transition table: every move from every status, by the verbs and by the API."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from app.core.errors import Conflict
from app.extensions import db
from app.requests import lifecycle
from app.requests.models import STATUSES, RequestEvent, ServiceRequest
from tests.factories import submit
from tests.helpers import bearer

#: the moves the design allows (new → acknowledged → assigned → in_progress, on hold from
#: any open status, closed from any open status, reopened back to acknowledged); all
#: others must be refused. Written out, not read from the code, so that a change shows.
ALLOWED = {
    ("new", "acknowledged"),
    ("new", "assigned"),
    ("new", "on_hold"),
    ("new", "closed"),
    ("acknowledged", "assigned"),
    ("acknowledged", "in_progress"),
    ("acknowledged", "on_hold"),
    ("acknowledged", "closed"),
    ("assigned", "acknowledged"),
    ("assigned", "in_progress"),
    ("assigned", "on_hold"),
    ("assigned", "closed"),
    ("in_progress", "acknowledged"),
    ("in_progress", "assigned"),
    ("in_progress", "on_hold"),
    ("in_progress", "closed"),
    ("on_hold", "acknowledged"),
    ("on_hold", "assigned"),
    ("on_hold", "in_progress"),
    ("on_hold", "closed"),
    ("closed", "acknowledged"),  # reopened
}
PAIRS = [(a, b) for a in STATUSES for b in STATUSES]

Verb = Callable[[ServiceRequest], RequestEvent]


def _reopen(sr: ServiceRequest) -> RequestEvent:
    return lifecycle.reopen(sr, actor_id=None, note="Caller says it is still there")


def _to_queue(sr: ServiceRequest) -> RequestEvent:
    return lifecycle.return_to_queue(sr, actor_id=None, note="Crew called off")


#: the verb that moves a request to each status, and the kind of event it records
VERBS: dict[str, tuple[Verb, str]] = {
    # nothing public moves a request back to new: ask the one place that enforces the table
    "new": (lambda sr: lifecycle._move(sr, "new", kind="status_changed", actor_id=None), ""),
    "acknowledged": (_to_queue, "status_changed"),
    "assigned": (
        lambda sr: lifecycle.mark_assigned(sr, actor_id=None, work_order_id=1, crew_name="A"),
        "assigned",
    ),
    "in_progress": (lambda sr: lifecycle.mark_in_progress(sr, actor_id=None), "status_changed"),
    "on_hold": (
        lambda sr: lifecycle.put_on_hold(
            sr, actor_id=None, reason="materials", note="Waiting for parts"
        ),
        "held",
    ),
    "closed": (lambda sr: lifecycle.close(sr, reason="fixed", actor_id=None), "closed"),
}


def in_status(status: str) -> ServiceRequest:
    """Return a request brought to `status` by the usual road."""
    sr = submit()
    if status == "closed":
        lifecycle.close(sr, reason="fixed", actor_id=None)
    elif status != "new":
        lifecycle.acknowledge(sr, actor_id=None)
        if status != "acknowledged":
            VERBS[status][0](sr)
    assert sr.status == status
    return sr


def event_count(sr: ServiceRequest) -> int:
    return db.session.scalar(
        select(func.count()).select_from(RequestEvent).where(RequestEvent.request_id == sr.id)
    )


def last_event(sr: ServiceRequest) -> RequestEvent:
    return db.session.scalars(
        select(RequestEvent)
        .where(RequestEvent.request_id == sr.id)
        .order_by(RequestEvent.id.desc())
        .limit(1)
    ).one()


@pytest.mark.parametrize("from_status, to_status", PAIRS)
def test_every_move_is_taken_or_refused_as_the_table_says(city, from_status, to_status):
    sr = in_status(from_status)
    events_before = event_count(sr)
    verb, kind = VERBS[to_status]
    if (from_status, to_status) == ("closed", "acknowledged"):
        verb, kind = _reopen, "reopened"

    if (from_status, to_status) in ALLOWED:
        verb(sr)
        assert sr.status == to_status
        assert event_count(sr) == events_before + 1
        event = last_event(sr)
        assert (event.kind, event.from_status, event.to_status) == (kind, from_status, to_status)
        assert sr.acknowledged_at is not None  # any move is the department's acknowledgement
    else:
        with pytest.raises(Conflict, match=f"Request {sr.id} is "):
            verb(sr)
        assert sr.status == from_status
        assert event_count(sr) == events_before


@pytest.mark.parametrize("status", STATUSES)
def test_only_a_new_request_is_acknowledged(city, status):
    sr = in_status(status)
    if status == "new":
        assert lifecycle.acknowledge(sr, actor_id=None).kind == "acknowledged"
        assert sr.status == "acknowledged"
    else:
        with pytest.raises(Conflict, match="only a new request can be acknowledged"):
            lifecycle.acknowledge(sr, actor_id=None)
        assert sr.status == status


@pytest.mark.parametrize("status", STATUSES)
def test_only_a_closed_request_is_reopened(city, status):
    sr = in_status(status)
    if status == "closed":
        _reopen(sr)
        assert (sr.status, sr.closed_at, sr.closure_reason) == ("acknowledged", None, None)
    else:
        with pytest.raises(Conflict, match="is not closed, so it cannot be reopened"):
            _reopen(sr)
        assert sr.status == status


#: each staff endpoint, its body, and the status it may be taken from
ENDPOINTS = {
    "acknowledge": ({}, {"new"}),
    "close": ({"reason": "fixed"}, set(STATUSES) - {"closed"}),
    "reopen": ({"note": "Caller says it is still there"}, {"closed"}),
}


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", ENDPOINTS)
def test_the_api_refuses_a_move_the_table_refuses_with_409(client, city, tokens, action, status):
    sr = in_status(status)
    body, takes_from = ENDPOINTS[action]
    events_before = event_count(sr)
    resp = client.post(
        f"/api/v1/requests/{sr.id}/{action}", json=body, headers=bearer(tokens["dispatcher"])
    )
    db.session.expire_all()
    if status in takes_from:
        assert resp.status_code == 200, resp.get_json()
        assert event_count(sr) == events_before + 1
    else:
        assert resp.status_code == 409
        assert resp.get_json()["message"].startswith(f"Request {sr.id} is ")
        assert db.session.get(ServiceRequest, sr.id).status == status
        assert event_count(sr) == events_before

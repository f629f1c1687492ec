"""Work-order verbs called directly: the request transitions they drive and the crew's list."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.core.errors import Conflict, Forbidden
from app.extensions import db
from app.requests import service as requests_service
from app.workorders import service
from tests.workorders.helpers import event_kinds, events, submit


def test_a_request_left_assigned_can_be_dispatched_again(city):
    sr = submit()
    dispatcher = city.users["dispatcher"]
    # a request can be "assigned" with no open order (e.g. set by hand before crews existed)
    requests_service.acknowledge(sr, actor_id=dispatcher.id)
    requests_service.mark_assigned(sr, actor_id=dispatcher.id, work_order_id=0, crew_name="x")

    wo = service.create_work_order([sr.id], city.crew_a.id, actor=dispatcher)
    assert sr.status == "assigned"
    assert event_kinds(sr) == ["created", "acknowledged", "assigned", "status_changed", "assigned"]
    assert events(sr, "assigned")[-1].data["work_order_id"] == wo.id


def test_only_the_departments_dispatchers_may_cancel(city):
    sr = submit()
    wo = service.create_work_order([sr.id], city.crew_a.id, actor=city.users["dispatcher"])
    with pytest.raises(Forbidden):
        service.cancel(wo, actor=city.users["parks_dispatcher"], reason="Not ours")
    with pytest.raises(Forbidden):
        service.cancel(wo, actor=city.users["crew"], reason="Too hard")
    service.cancel(wo, actor=city.users["manager"], reason="Duplicate order")
    with pytest.raises(Conflict, match="already cancelled"):
        service.cancel(wo, actor=city.users["manager"], reason="Again")
    with pytest.raises(Conflict):
        service.start(wo, actor=city.users["crew"])


def test_crew_list_shows_open_orders_then_this_weeks_completed(city):
    crew_member = city.users["crew"]
    city.pothole.completion_photo_required = False
    dispatcher = city.users["dispatcher"]
    old, recent, first_open, second_open = (
        service.create_work_order([submit().id], city.crew_a.id, actor=dispatcher) for _ in range(4)
    )
    for wo in (old, recent):
        service.complete(wo, actor=crew_member)
    old.completed_at -= timedelta(days=8)
    elsewhere = service.create_work_order([submit().id], city.crew_b.id, actor=dispatcher)
    db.session.flush()

    orders = service.crew_work_orders(city.crew_a.id)
    assert [wo.id for wo in orders] == [first_open.id, second_open.id, recent.id]
    assert elsewhere not in orders
    assert service.open_work_order_counts([city.crew_a.id, city.crew_b.id]) == {
        city.crew_a.id: 2,
        city.crew_b.id: 1,
    }


def test_a_note_over_the_limit_is_refused_before_anything_is_written(city):
    city.pothole.completion_photo_required = False
    sr = submit()
    wo = service.create_work_order([sr.id], city.crew_a.id, actor=city.users["dispatcher"])
    with pytest.raises(Exception, match="limit is 4000") as err:
        service.complete(wo, actor=city.users["crew"], note="x" * 4001)
    assert err.value.field == "note"
    assert (wo.status, sr.status) == ("assigned", "assigned")

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core.errors import Conflict, DomainError, OutsideJurisdiction
from app.extensions import db
from app.requests import service
from app.requests.models import RequestEvent, ServiceRequest
from tests.factories import OUTSIDE_POINT, WARD_2_POINT, new_request, submit


def test_submit_routes_to_department_district_and_sla(city):
    result = service.submit_request(new_request(point=WARD_2_POINT), channel="web")
    assert result.department_code == "PWD"
    assert result.district_code == "2"
    assert result.due_at - result.requested_at == timedelta(hours=72)
    sr = db.session.get(ServiceRequest, result.id)
    assert (sr.status, sr.channel, sr.district_id) == ("new", "web", city.ward2.id)
    assert [e.kind for e in sr.events] == ["created"]


def test_business_day_sla_skips_the_weekend(city, app):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    friday = datetime(2026, 11, 20, 15, 0, tzinfo=ZoneInfo(app.config["CITY_TIMEZONE"]))
    result = service.submit_request(
        new_request("streetlight"), channel="phone", requested_at=friday
    )
    assert result.due_at.astimezone(friday.tzinfo) == friday + timedelta(days=7)


def test_outside_jurisdiction_is_refused_and_nothing_stored(city):
    before = db.session.scalar(select(func.count()).select_from(ServiceRequest))
    with pytest.raises(OutsideJurisdiction, match="outside"):
        service.submit_request(new_request(point=OUTSIDE_POINT), channel="web")
    assert db.session.scalar(select(func.count()).select_from(ServiceRequest)) == before


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"code": "nope"}, "Unknown service code"),
        ({"description": "  "}, "description is required"),
        ({"description": "x" * 4001}, "limit is 4000"),
        ({"email": "not-an-email"}, "not an email"),
        ({"attributes": {"size": "huge"}}, "must be one of"),
    ],
)
def test_bad_input_is_refused(city, kw, message):
    with pytest.raises(DomainError, match=message):
        service.submit_request(new_request(**kw), channel="web")


def test_close_and_reopen_record_events(city):
    sr = submit()
    service.acknowledge(sr, actor_id=None)
    service.close(sr, reason="fixed", actor_id=None, note="Filled")
    assert sr.closed_at is not None and sr.closure_reason == "fixed"
    with pytest.raises(Conflict):
        service.close(sr, reason="fixed", actor_id=None)
    service.reopen(sr, actor_id=None, note="Still there")
    assert (sr.status, sr.closed_at, sr.closure_reason) == ("acknowledged", None, None)
    kinds = db.session.scalars(
        select(RequestEvent.kind).where(RequestEvent.request_id == sr.id).order_by(RequestEvent.id)
    ).all()
    assert kinds == ["created", "acknowledged", "closed", "reopened"]


def test_a_cached_service_type_never_routes_with_stale_data(city):
    first = service.submit_request(new_request(), channel="web")  # caches the pothole type
    assert first.department_code == "PWD"
    city.pothole.department_id = city.parks.id  # re-homed while the cache still says PWD
    db.session.flush()
    moved = service.submit_request(new_request(), channel="web")
    assert moved.department_code == "PARKS"
    assert db.session.get(ServiceRequest, moved.id).department_id == city.parks.id

    city.pothole.active = False
    db.session.flush()
    with pytest.raises(DomainError, match="Unknown service code"):
        service.submit_request(new_request(), channel="web")


def test_closing_without_fixing_needs_a_note_for_the_reporter(city):
    sr = submit()
    with pytest.raises(DomainError, match="Write a note"):
        service.close(sr, reason="duplicate", actor_id=None, note="  ")
    assert sr.status == "new"
    service.close(sr, reason="duplicate", actor_id=None, note="Same as request 12")
    assert sr.closure_reason == "duplicate"


def test_only_a_new_request_can_be_acknowledged(city):
    sr = submit()
    service.acknowledge(sr, actor_id=None)
    with pytest.raises(Conflict, match="only a new request"):
        service.acknowledge(sr, actor_id=None)


@pytest.mark.parametrize(
    "verb",
    [
        lambda sr, note: service.add_note(sr, actor_id=None, note=note, public=True),
        lambda sr, note: service.close(sr, reason="referred", actor_id=None, note=note),
        lambda sr, note: service.put_on_hold(sr, actor_id=None, note=note),
        lambda sr, note: service.return_to_queue(sr, actor_id=None, note=note),
    ],
)
def test_every_verb_refuses_a_note_over_the_limit_and_records_nothing(city, verb):
    sr = submit()
    with pytest.raises(DomainError, match="4001 characters long; the limit is 4000"):
        verb(sr, "x" * 4001)
    assert sr.status == "new"
    assert [
        e.kind
        for e in db.session.scalars(select(RequestEvent).where(RequestEvent.request_id == sr.id))
    ] == ["created"]
    verb(sr, "  " + "x" * 4000 + "  ")  # the limit counts what is written, not the blanks

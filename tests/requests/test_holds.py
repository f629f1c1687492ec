"""Holds stop the SLA clock: the due time moves by the pause, and the history says so."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.core.errors import Conflict, DomainError
from app.requests import lifecycle
from tests.factories import submit
from tests.helpers import bearer


def test_a_hold_moves_the_due_time_by_the_pause_and_resumes_where_it_was(city):
    sr = submit()
    lifecycle.acknowledge(sr, actor_id=None)
    lifecycle.mark_in_progress(sr, actor_id=None)
    due = sr.due_at
    held = lifecycle.put_on_hold(sr, actor_id=None, reason="weather", note="Frozen ground")
    assert (sr.status, sr.hold_reason, sr.held_since) == ("on_hold", "weather", held.at)
    sr.held_since = held.at - timedelta(hours=5)  # as if the hold began five hours ago

    resumed = lifecycle.resume(sr, actor_id=None, note="Thawed")
    assert (resumed.kind, resumed.from_status, resumed.to_status) == (
        "resumed",
        "on_hold",
        "in_progress",
    )
    assert sr.held_since is None and sr.hold_reason is None
    paused = resumed.data["held_seconds"]
    assert 5 * 3600 <= paused < 5 * 3600 + 60
    assert sr.due_at == due + timedelta(seconds=paused)
    assert sr.held_seconds == paused


def test_holds_add_up_and_closing_on_hold_ends_the_pause(city):
    sr = submit()
    due = sr.due_at
    for hours in (2, 3):
        event = lifecycle.put_on_hold(sr, actor_id=None, reason="materials")
        sr.held_since = event.at - timedelta(hours=hours)
        if hours == 2:
            lifecycle.resume(sr, actor_id=None)
    # a hold while new resumes as acknowledged: the department has seen it by then
    closed = lifecycle.close(sr, reason="no_action_needed", actor_id=None, note="Resolved")
    assert sr.status == "closed" and sr.held_since is None
    assert 5 * 3600 <= sr.held_seconds < 5 * 3600 + 60
    assert sr.due_at == due + timedelta(seconds=sr.held_seconds)
    assert closed.data["held_seconds"] >= 3 * 3600


def test_resume_from_new_goes_to_acknowledged(city):
    sr = submit()
    lifecycle.put_on_hold(sr, actor_id=None, reason="waiting_on_resident")
    assert lifecycle.resume(sr, actor_id=None).to_status == "acknowledged"


def test_bad_holds_are_refused_and_change_nothing(city):
    sr = submit()
    with pytest.raises(Conflict, match="not on hold: there is nothing to resume"):
        lifecycle.resume(sr, actor_id=None)
    with pytest.raises(DomainError, match="Unknown hold reason 'lunch'"):
        lifecycle.put_on_hold(sr, actor_id=None, reason="lunch")
    assert sr.status == "new" and sr.held_since is None
    lifecycle.close(sr, reason="fixed", actor_id=None)
    with pytest.raises(Conflict, match="A closed request can only be reopened"):
        lifecycle.put_on_hold(sr, actor_id=None, reason="weather")


def test_an_illegal_move_names_the_moves_allowed(city):
    sr = submit()
    lifecycle.acknowledge(sr, actor_id=None)
    with pytest.raises(Conflict) as refused:
        lifecycle.resume(sr, actor_id=None)
    assert "acknowledged" in refused.value.message
    lifecycle.put_on_hold(sr, actor_id=None, reason="other")
    with pytest.raises(Conflict, match="already on hold"):
        lifecycle.put_on_hold(sr, actor_id=None, reason="other")


def test_hold_and_resume_through_the_api(client, city, tokens):
    sr = submit()
    auth = bearer(tokens["dispatcher"])
    bad = client.post(f"/api/v1/requests/{sr.id}/hold", json={"reason": "nap"}, headers=auth)
    assert bad.status_code == 422 and "reason" in bad.get_json()["message"]
    held = client.post(
        f"/api/v1/requests/{sr.id}/hold",
        json={"reason": "other_agency", "note": "Gas company first"},
        headers=auth,
    )
    assert held.status_code == 200, held.get_json()
    assert held.get_json()["status"] == "on_hold"
    again = client.post(f"/api/v1/requests/{sr.id}/hold", json={"reason": "other"}, headers=auth)
    assert again.status_code == 409
    resumed = client.post(f"/api/v1/requests/{sr.id}/resume", json={}, headers=auth)
    assert resumed.status_code == 200 and resumed.get_json()["status"] == "acknowledged"
    not_held = client.post(f"/api/v1/requests/{sr.id}/resume", json={}, headers=auth)
    assert not_held.status_code == 409 and "not on hold" in not_held.get_json()["message"]
    parks = bearer(tokens["parks_dispatcher"])
    other = client.post(f"/api/v1/requests/{sr.id}/hold", json={"reason": "other"}, headers=parks)
    assert other.status_code == 403

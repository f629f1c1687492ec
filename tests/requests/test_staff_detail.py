"""The staff request page: likely duplicates and merging, holds, and the complete history."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.requests import lifecycle, merging
from app.requests.models import RequestEvent, RequestSubscriber, ServiceRequest
from tests.factories import WARD_1_POINT, submit
from tests.helpers import sign_in

NEAR = (WARD_1_POINT[0] + 0.0002, WARD_1_POINT[1])


def fresh(sr: ServiceRequest) -> ServiceRequest:
    db.session.expire_all()
    return db.session.get(ServiceRequest, sr.id)


def page_of(client, sr: ServiceRequest) -> str:
    resp = client.get(f"/staff/requests/{sr.id}")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def merge_buttons(page: str) -> list[tuple[str, str]]:
    """Return (form or button action, into) of each merge button on the page."""
    found = []
    for form in re.findall(
        r'<form method="post" action="([^"]+)" class="merge">(.*?)</form>', page, re.S
    ):
        action, body = form
        for button in re.findall(r"<button[^>]*>", body):
            into = re.search(r'value="(\d+)"', button).group(1)
            target = re.search(r'formaction="([^"]+)"', button)
            found.append((target.group(1) if target else action, into))
    return found


# ---------------------------------------------------------------------------------------------
# likely duplicates and merging


def test_the_page_lists_likely_duplicates_with_merges_both_ways(client, city):
    sr = submit()
    near = submit(point=NEAR, description="Same hole by the bus stop", address="14 Main St")
    submit("streetlight", point=NEAR)
    sign_in(client, city.users["agent"])
    page = page_of(client, sr)
    assert 'Likely duplicates <span class="hint">(1)</span>' in page
    candidate = page[page.index(f'id="candidate-{near.id}"') :]
    candidate = candidate[: candidate.index("</li>")]
    assert f'href="/staff/requests/{near.id}"' in candidate
    assert "22 m away" in candidate
    assert "14 Main St: Same hole by the bus stop" in candidate
    assert 'name="csrf_token"' in candidate
    assert merge_buttons(page) == [
        (f"/staff/requests/{sr.id}/merge", str(near.id)),
        (f"/staff/requests/{near.id}/merge", str(sr.id)),
    ]
    assert f"Merge this into #{near.id}" in candidate and f"Merge #{near.id} into this" in candidate


def test_another_departments_dispatcher_sees_duplicates_but_no_merge(client, city):
    sr = submit()
    submit(point=NEAR)
    sign_in(client, city.users["parks_dispatcher"])
    page = page_of(client, sr)
    assert 'Likely duplicates <span class="hint">(1)</span>' in page
    assert merge_buttons(page) == []
    assert "Merge into another request by number" not in page


def test_a_crew_on_one_side_leaves_only_the_right_merge(client, city):
    busy = submit()
    lifecycle.mark_assigned(busy, actor_id=None, work_order_id=8, crew_name="Pothole crew A")
    other = submit(point=NEAR)
    sign_in(client, city.users["dispatcher"])
    page = page_of(client, busy)
    assert merge_buttons(page) == [(f"/staff/requests/{other.id}/merge", str(busy.id))]
    assert f"A crew is on request {busy.id}: merge the other into it." in page


def test_merging_from_the_page_goes_to_the_original(client, city):
    original = submit(email="first@example.org")
    dup = submit(point=NEAR, email="second@example.org")
    db.session.commit()
    sign_in(client, city.users["agent"])

    resp = client.post(
        f"/staff/requests/{dup.id}/merge",
        data={"into": str(original.id), "back": str(dup.id), "note": "Same hole"},
    )

    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/staff/requests/{original.id}")
    assert (fresh(dup).status, fresh(dup).parent_id) == ("closed", original.id)
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert f"Request {dup.id} merged into request {original.id}. 1 more person will be told" in page
    merged_here = page[page.index('id="merged-children"') :]
    assert f'href="/staff/requests/{dup.id}">Request {dup.id}</a>' in merged_here[:200]
    assert "The reporter and 1 subscriber" in page
    assert 'Likely duplicates <span class="hint">(0)</span>' in page
    dup_page = page_of(client, dup)
    assert f'Duplicate of <a href="/staff/requests/{original.id}">' in dup_page
    assert f"Merged into request {original.id}: Same hole" in dup_page
    assert 'id="duplicates"' not in dup_page  # closed: nothing more to merge


def test_a_refused_merge_shows_why_on_the_page_it_was_asked_from(client, city):
    sr = submit()
    closed = submit(point=NEAR, email="closed@example.org")
    lifecycle.close(closed, reason="fixed", actor_id=None)
    db.session.commit()
    sign_in(client, city.users["agent"])

    resp = client.post(
        f"/staff/requests/{sr.id}/merge", data={"into": str(closed.id), "back": str(sr.id)}
    )
    assert resp.status_code == 409
    page = resp.get_data(as_text=True)
    assert f"Request {sr.id}: Pothole" in page
    assert 'id="merge-into-error"' in page and f"Request {closed.id} is closed" in page
    assert fresh(sr).status == "new" and fresh(sr).parent_id is None

    for typed, words in (("", "Give the number"), ("999999", "There is no service request")):
        resp = client.post(f"/staff/requests/{sr.id}/merge", data={"into": typed})
        assert resp.status_code in (400, 404)
        assert words in resp.get_data(as_text=True)
        assert f'value="{typed}"' in resp.get_data(as_text=True)  # what was typed stays
    assert not db.session.scalars(select(RequestSubscriber)).all()


def test_merging_from_the_page_needs_the_right_to_merge(client, city):
    sr = submit()
    other = submit(point=NEAR)
    db.session.commit()
    sign_in(client, city.users["parks_dispatcher"])
    resp = client.post(f"/staff/requests/{sr.id}/merge", data={"into": str(other.id)})
    assert resp.status_code == 403
    assert fresh(sr).status == "new"


# ---------------------------------------------------------------------------------------------
# hold and resume


def test_hold_and_resume_from_the_page(client, city):
    sr = submit()
    sign_in(client, city.users["dispatcher"])
    page = page_of(client, sr)
    assert f'action="/staff/requests/{sr.id}/hold"' in page
    assert f'action="/staff/requests/{sr.id}/resume"' not in page

    bad = client.post(f"/staff/requests/{sr.id}/hold", data={"reason": "lunch"})
    assert bad.status_code == 400
    assert 'id="hold-reason-error"' in bad.get_data(as_text=True)
    assert fresh(sr).status == "new"

    resp = client.post(
        f"/staff/requests/{sr.id}/hold", data={"reason": "materials", "note": "Asphalt Monday"}
    )
    assert resp.status_code == 303
    assert (fresh(sr).status, fresh(sr).hold_reason) == ("on_hold", "materials")
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "is on hold: its SLA clock is stopped" in page
    hold_state = page[page.index('id="hold-state"') :][:400]
    assert "On hold since" in hold_state and "Waiting for materials" in hold_state
    assert f'action="/staff/requests/{sr.id}/resume"' in page
    assert f'action="/staff/requests/{sr.id}/hold"' not in page

    resp = client.post(f"/staff/requests/{sr.id}/resume", data={"note": "Delivered"})
    assert resp.status_code == 303
    assert fresh(sr).status == "acknowledged" and fresh(sr).held_since is None
    again = client.post(f"/staff/requests/{sr.id}/resume", data={})
    assert again.status_code == 409
    assert "not on hold" in again.get_data(as_text=True)


def test_an_agent_may_not_hold_from_the_page(client, city):
    sr = submit()
    sign_in(client, city.users["agent"])
    assert 'action="/staff/requests/' + str(sr.id) + '/hold"' not in page_of(client, sr)
    assert client.post(f"/staff/requests/{sr.id}/hold", data={"reason": "other"}).status_code == 403


# ---------------------------------------------------------------------------------------------
# the rest of the page: history, crew, transfer


def test_the_history_shows_who_from_to_and_internal_or_public(client, city):
    dispatcher = city.users["dispatcher"]
    sr = submit()
    lifecycle.acknowledge(sr, actor_id=dispatcher.id)
    lifecycle.add_note(sr, actor_id=dispatcher.id, note="Call the owner first", public=False)
    held = lifecycle.put_on_hold(sr, actor_id=dispatcher.id, reason="weather")
    sr.held_since = held.at - timedelta(hours=2, minutes=5, seconds=30)  # as if held since then
    lifecycle.resume(sr, actor_id=dispatcher.id)
    db.session.commit()
    sign_in(client, city.users["agent"])
    page = page_of(client, sr)
    history = page[page.index('id="history"') :]

    def item(kind: str) -> str:
        event = db.session.scalars(
            select(RequestEvent).where(RequestEvent.request_id == sr.id, RequestEvent.kind == kind)
        ).first()
        text = history[history.index(f'id="event-{event.id}"') :]
        return text[: text.index("</li>")]

    acknowledged = item("acknowledged")
    assert "Received → Acknowledged by the department" in acknowledged
    assert "dispatcher@city.test, dispatcher" in acknowledged
    assert "Public" in acknowledged
    note = item("note")
    assert "Internal" in note and "Call the owner first" in note and "→" not in note
    assert "Put on hold" in item("held") and "Reason: Waiting for the weather" in item("held")
    assert "On hold → Acknowledged by the department" in item("resumed")
    assert "Paused 2 h 5 min; the due time moved by it" in item("resumed")
    assert "the reporter or the system" in item("created")
    assert held.public
    assert "<dt>Time on hold</dt><dd>2 h 5 min, not counted against the SLA</dd>" in page


def test_the_page_shows_the_proposed_crew_and_subscribers(client, city):
    sr = submit()
    sr.crew_id = city.crew_b.id
    for n in range(2):
        merging.merge(submit(point=NEAR, email=f"r{n}@example.org").id, sr.id, actor_id=None)
    db.session.commit()
    sign_in(client, city.users["dispatcher"])
    page = page_of(client, sr)
    assert "<dt>Proposed crew</dt><dd>Pothole crew B</dd>" in page
    assert "The reporter and 2 subscribers (reporters of merged duplicates)" in page


@pytest.mark.parametrize(
    "role, shown",
    [
        ("agent", True),
        ("dispatcher", True),
        ("manager", True),
        ("admin", True),
        ("parks_dispatcher", False),
    ],
)
def test_the_transfer_link_is_for_who_may_transfer(client, city, role, shown):
    sr = submit()
    closed = submit(point=NEAR)
    lifecycle.close(closed, reason="fixed", actor_id=None)
    db.session.commit()
    sign_in(client, city.users[role])
    link = f'href="/staff/requests/{sr.id}/transfer"'
    assert (link in page_of(client, sr)) is shown
    assert f'href="/staff/requests/{closed.id}/transfer"' not in page_of(client, closed)

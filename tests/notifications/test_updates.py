"""Between the receipt and the closure the resident hears of each move they care about."""

from __future__ import annotations

from app.extensions import db
from app.notifications import tasks, updates
from app.requests import lifecycle
from app.requests.models import RequestSubscriber
from app.requests.transfer import transfer
from tests import factories
from tests.notifications.conftest import REPORTER, close_with_photo, outbox_rows, parts, submit

FOLLOWER = "neighbour@example.org"


def deliver_all(request_id: int, event: str | None = None) -> list[str]:
    return [tasks.deliver(row.id) for row in outbox_rows(request_id, event)]


def test_each_move_owes_one_update_to_the_reporter_and_followers(city, mailbox):
    sr = submit()
    db.session.add(RequestSubscriber(request_id=sr.id, email=FOLLOWER, source="follow"))
    moves = [
        lambda: lifecycle.acknowledge(sr, actor_id=None),
        lambda: lifecycle.mark_assigned(
            sr, actor_id=None, work_order_id=1, crew_name="Pothole crew A"
        ),
        lambda: lifecycle.return_to_queue(sr, actor_id=None, note="Crew called off."),
        lambda: lifecycle.put_on_hold(
            sr, actor_id=None, reason="materials", note="Asphalt due Monday."
        ),
        lambda: lifecycle.resume(sr, actor_id=None),
        lambda: transfer(sr, service_code="graffiti", note="Paint, not a hole.", actor_id=None),
        lambda: lifecycle.close(sr, reason="fixed", actor_id=None, note="Cleaned."),
        lambda: lifecycle.reopen(sr, actor_id=None, note="The paint is back."),
    ]
    for move in moves:
        move()
        db.session.commit()
        deliver_all(sr.id)  # each is sent before the next move

    owed = [(r.event, r.recipient, r.status) for r in outbox_rows(sr.id)]
    events = ["acknowledged", "assigned", "on_hold", "resumed", "transferred", "closed"]
    expected = [("receipt", REPORTER, "sent")]
    for event in (*events, "reopened"):
        expected += [(event, REPORTER, "sent"), (event, FOLLOWER, "sent")]
    assert owed == expected  # and nothing for the crew called off (an internal move)

    messages = mailbox.wait_for(len(expected))
    assert len(messages) == len(expected)
    subjects = {(str(m["To"]), str(m["Subject"])) for m in messages}
    for who in (REPORTER, FOLLOWER):
        assert (who, f"Your request {sr.id} has been seen by Public Works") in subjects
        assert (who, f"A crew is scheduled for your request {sr.id}") in subjects
        assert (who, f"Your request {sr.id} is on hold: waiting for materials") in subjects
        assert (who, f"Work on your request {sr.id} has resumed") in subjects
        assert (who, f"Your request {sr.id} is now handled by Parks and Recreation") in subjects
        assert (who, f"Your request {sr.id} is fixed") in subjects
        assert (who, f"Your request {sr.id} was reopened") in subjects

    held = next(m for m in messages if "on hold" in m["Subject"])
    text, html, _ = parts(held)
    for body in (text, html):
        assert "Waiting for materials" in body
        assert "Asphalt due Monday." in body
        assert f"/requests/{sr.id}" in body
    moved = next(m for m in messages if "now handled by" in m["Subject"])
    text, _, _ = parts(moved)
    assert f"Its number stays {sr.id}" in text
    assert "Paint, not a hole." not in text  # the transfer note is internal
    reopened = next(m for m in messages if "reopened" in m["Subject"])
    assert "The paint is back." in parts(reopened)[0]


def test_an_update_overtaken_by_the_closure_is_not_sent(city, mailbox):
    sr = submit()
    db.session.commit()
    deliver_all(sr.id, "receipt")
    lifecycle.mark_assigned(sr, actor_id=None, work_order_id=1, crew_name="Pothole crew A")
    lifecycle.close(sr, reason="fixed", actor_id=None, note="Done at once.")
    db.session.commit()
    assert deliver_all(sr.id, "assigned") == ["superseded"]
    assert deliver_all(sr.id, "closed") == ["sent"]
    messages = mailbox.wait_for(2)
    assert [m["Subject"] for m in messages][-1] == f"Your request {sr.id} is fixed"
    assert len(messages) == 2


def test_a_repeated_signal_owes_nothing_new(app, city):
    sr = submit()
    event = lifecycle.acknowledge(sr, actor_id=None)
    updates.on_status_changed(app, request_id=sr.id, kind="acknowledged", event_id=event.id)
    assert len(outbox_rows(sr.id, "acknowledged")) == 1


def test_imported_requests_stay_silent(city):
    sr = factories.submit(channel="import", email=REPORTER)
    lifecycle.acknowledge(sr, actor_id=None)
    lifecycle.put_on_hold(sr, actor_id=None, reason="weather")
    assert outbox_rows(sr.id) == []


def test_the_closure_shows_the_crews_photo_inline_and_attaches_it(city, mailbox):
    sr = submit()
    close_with_photo(sr, note="Filled and rolled.")
    db.session.commit()
    assert deliver_all(sr.id, "closed") == ["sent"]
    [msg] = mailbox.wait_for(1)
    related = next(p for p in msg.walk() if p.get_content_type() == "multipart/related")
    html_part, image = related.get_payload()
    cid = image["Content-ID"].strip("<>")
    assert image.get_content_type() == "image/jpeg"
    assert f'src="cid:{cid}"' in html_part.get_content()
    assert "Filled and rolled." in html_part.get_content()
    _, _, attachments = parts(msg)
    [attached] = attachments
    assert attached.get_payload(decode=True) == image.get_payload(decode=True)

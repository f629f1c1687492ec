"""Follow a request from its tracking page; stop a request's emails by the link in any of them."""

from __future__ import annotations

import re

from app.extensions import db
from app.notifications import tasks
from app.requests import lifecycle, subscribers
from tests.notifications.conftest import REPORTER, outbox_rows, parts, submit

FAN = "fan@example.org"


def deliver_pending(request_id: int) -> list[str]:
    return [tasks.deliver(r.id) for r in outbox_rows(request_id) if r.status == "pending"]


def link(msg, pattern: str) -> str:
    text = parts(msg)[0].replace("\r\n", "\n")
    return re.search(pattern, text).group(1).removeprefix("http://city311.test")


def test_following_is_confirmed_by_a_link_and_brings_the_news(client, city, mailbox):
    sr = submit()
    db.session.commit()
    page = client.get(f"/requests/{sr.id}").get_data(as_text=True)
    assert f'action="/requests/{sr.id}/follow"' in page

    asked = client.post(f"/requests/{sr.id}/follow", data={"email": FAN}, follow_redirects=True)
    assert "Check your inbox" in asked.get_data(as_text=True)
    assert [r.email for r in subscribers.recipients(sr)] == [REPORTER]  # not yet
    # asking again sends no second confirmation (no mailbox flooding from the page)
    client.post(f"/requests/{sr.id}/follow", data={"email": FAN})
    assert len(outbox_rows(sr.id, "follow_confirm")) == 1

    deliver_pending(sr.id)
    confirm = next(m for m in mailbox.wait_for(2) if m["To"] == FAN)
    assert confirm["Subject"] == f"Confirm: follow request {sr.id}"
    assert "List-Unsubscribe" not in confirm
    done = client.get(link(confirm, r"confirm with this link:\n(\S+)"), follow_redirects=True)
    assert f"You follow request {sr.id}" in done.get_data(as_text=True)
    assert [r.email for r in subscribers.recipients(sr)] == [REPORTER, FAN]

    lifecycle.acknowledge(sr, actor_id=None)
    db.session.commit()
    assert deliver_pending(sr.id) == ["sent", "sent"]
    told = [m["To"] for m in mailbox.wait_for(4) if "has been seen" in m["Subject"]]
    assert sorted(told) == [FAN, REPORTER]


def test_a_bad_address_or_a_forged_link_is_refused(client, city):
    sr = submit()
    db.session.commit()
    bad = client.post(f"/requests/{sr.id}/follow", data={"email": "not an address"})
    assert bad.status_code == 302
    assert outbox_rows(sr.id, "follow_confirm") == []
    assert client.post("/requests/999999/follow", data={"email": FAN}).status_code == 404
    assert client.get("/follow/forged-token").status_code == 404
    assert client.post("/unsubscribe/forged-token").status_code == 404


def test_every_message_can_stop_that_requests_emails_without_login(client, city, mailbox):
    sr = submit()
    other = submit()
    db.session.commit()
    deliver_pending(sr.id)
    [receipt] = [m for m in mailbox.wait_for(1) if str(sr.id) in m["Subject"]]
    url = link(receipt, r"Stop emails about this request: (\S+)")
    assert receipt["List-Unsubscribe"] == f"<http://city311.test{url}>"
    assert receipt["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Stop emails about this request" in parts(receipt)[1]

    page = client.get(url)  # a link scanner's GET changes nothing
    assert page.status_code == 200 and "Stop these emails" in page.get_data(as_text=True)
    lifecycle.acknowledge(sr, actor_id=None)
    db.session.commit()
    # the mail client's one-click POST: no session, no CSRF token
    stopped = client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert stopped.status_code == 200
    assert "no more emails about request" in stopped.get_data(as_text=True)

    # owed before the click, sent after: dropped; owed after: never written
    assert deliver_pending(sr.id) == ["superseded"]
    lifecycle.close(sr, reason="fixed", actor_id=None, note="Done.")
    db.session.commit()
    assert outbox_rows(sr.id, "closed") == []
    # other requests of the same address are not affected
    lifecycle.acknowledge(other, actor_id=None)
    assert len(outbox_rows(other.id, "acknowledged")) == 1


def test_a_follower_who_unsubscribes_is_unfollowed_and_may_follow_again(client, city, mailbox):
    sr = submit()
    subscribers.follow(sr.id, FAN)
    lifecycle.acknowledge(sr, actor_id=None)
    db.session.commit()
    deliver_pending(sr.id)
    fan_mail = next(m for m in mailbox.wait_for(3) if m["To"] == FAN)
    client.post(link(fan_mail, r"Stop emails about this request: (\S+)"))
    assert [r.email for r in subscribers.recipients(sr)] == [REPORTER]

    client.post(f"/requests/{sr.id}/follow", data={"email": FAN})
    deliver_pending(sr.id)
    confirm = next(m for m in mailbox.wait_for(4) if m["Subject"].startswith("Confirm"))
    client.get(link(confirm, r"confirm with this link:\n(\S+)"))
    lifecycle.put_on_hold(sr, actor_id=None, reason="weather")
    db.session.commit()
    assert {r.recipient for r in outbox_rows(sr.id, "on_hold")} == {REPORTER, FAN}

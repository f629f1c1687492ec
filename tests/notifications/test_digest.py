"""The overdue digest: what each department's dispatchers are sent each morning, and when.

The digest runs at fixed city-local moments (a Tuesday morning in Riverton's time zone),
against requests whose due times are pinned around them; the mail goes through the real
outbox to the loopback SMTP server.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from app.auth.models import User
from app.extensions import db
from app.notifications import digest, service, tasks
from app.notifications.models import Outbox, OverdueDigest
from app.requests import lifecycle
from app.requests import service as requests_service
from app.requests.models import ServiceRequest
from tests.factories import make_user, submit
from tests.notifications.conftest import parts

CITY_TZ = ZoneInfo("America/New_York")
#: Tuesday Dec 1, 2026, 07:20 in the city: just after the default digest hour (7)
MORNING = datetime(2026, 12, 1, 7, 20, tzinfo=CITY_TZ)
#: the end of Wednesday, city time: "due by tomorrow" means due before it
HORIZON = datetime(2026, 12, 3, 0, 0, tzinfo=CITY_TZ)
DESK = "pwd-desk@city.test"


def pin(sr: ServiceRequest, *, due_at: datetime, requested_at: datetime | None = None) -> int:
    """Set a request's due time (and report time) as if it had been made earlier."""
    values: dict[str, datetime] = {"due_at": due_at}
    if requested_at is not None:
        values["requested_at"] = requested_at
    db.session.execute(update(ServiceRequest).where(ServiceRequest.id == sr.id).values(**values))
    db.session.expire_all()
    return sr.id


def run_digest(now: datetime) -> int:
    """Run the job at `now` on what is committed, as a worker would see it."""
    db.session.commit()
    return digest.send_overdue_digests(now)


def digest_rows() -> list[Outbox]:
    return list(
        db.session.scalars(
            select(Outbox).where(Outbox.event == "overdue_digest").order_by(Outbox.recipient)
        )
    )


def delivered(mailbox, count: int) -> dict[str, object]:
    """Deliver what the outbox owes; return the digests received, by recipient."""
    db.session.commit()
    tasks.drain()
    mailbox.wait_for(count)
    return {
        rcpts[0]: msg
        for (_, rcpts), msg in zip(mailbox.envelopes, mailbox.messages, strict=True)
        if subject(msg).startswith("Overdue digest")
    }


def subject(msg) -> str:
    # a subject that fits a line of its own is folded onto it; unfolding leaves a space
    return msg["Subject"].strip()


def bodies(msg) -> tuple[str, str]:
    """Return the text and HTML parts of a message, with plain newlines."""
    text, html, _ = parts(msg)
    return text.replace("\r\n", "\n"), html.replace("\r\n", "\n")


@pytest.fixture
def pwd_requests(city) -> dict[str, int]:
    """Public Works requests around the MORNING: overdue, due by tomorrow, and neither."""
    week_ago = MORNING - timedelta(days=7)
    ids = {
        "overdue": pin(
            submit("pothole", address="12 Elm Street"),
            due_at=MORNING - timedelta(hours=2),
            requested_at=MORNING - timedelta(days=3, hours=1),
        ),
        "tomorrow": pin(
            submit("streetlight", address="4 Oak Avenue"),
            due_at=HORIZON - timedelta(minutes=1),
            requested_at=MORNING - timedelta(hours=5),
        ),
        "later": pin(submit("pothole", address="9 Far Road"), due_at=HORIZON),
    }
    held = submit("pothole", address="1 Held Lane")
    lifecycle.put_on_hold(held, actor_id=None, reason="materials")
    ids["held"] = pin(held, due_at=week_ago)
    closed = submit("pothole", address="2 Done Street")
    requests_service.close(closed, reason="fixed", actor_id=None)
    ids["closed"] = pin(closed, due_at=week_ago)
    ids["imported"] = pin(
        submit("pothole", channel="import", address="3 Old Road"), due_at=week_ago
    )
    return ids


def test_each_department_gets_its_own_overdue_and_due_by_tomorrow(city, pwd_requests, mailbox):
    city.public_works.email = DESK
    graffiti = pin(submit("graffiti", address="Skate park"), due_at=MORNING - timedelta(days=1))
    retired = make_user("retired@city.test", "dispatcher", department_id=city.public_works.id)
    retired.active = False
    db.session.flush()

    assert run_digest(MORNING) == 3

    by_recipient = delivered(mailbox, 3 + 7)  # and 6 receipts, 1 closure notice
    assert sorted(by_recipient) == [
        "dispatcher@city.test",
        "parks.dispatcher@city.test",
        DESK,
    ]  # not the inactive dispatcher, nor managers, crews or agents
    pwd_text, pwd_html = bodies(by_recipient["dispatcher@city.test"])
    assert subject(by_recipient["dispatcher@city.test"]) == (
        "Overdue digest for Public Works on Tue Dec 1: 1 overdue and 1 due by tomorrow"
    )
    assert "Overdue now: 1\nDue by the end of tomorrow: 1\n" in pwd_text
    overdue, tomorrow = pwd_requests["overdue"], pwd_requests["tomorrow"]
    assert (
        f"- Request {overdue}: Pothole, 12 Elm Street\n"
        "  due Tue Dec 01, 05:20, reported 3 d ago\n"
        f"  http://city311.test/staff/requests/{overdue}\n"
    ) in pwd_text
    assert (
        f"- Request {tomorrow}: Streetlight out, 4 Oak Avenue\n"
        "  due Wed Dec 02, 23:59, reported 5 h ago\n"
    ) in pwd_text
    assert pwd_text.index("Overdue:\n") < pwd_text.index(f"Request {overdue}:")
    assert pwd_text.index("Due by the end of tomorrow:\n") < pwd_text.index(f"Request {tomorrow}:")
    for left_out in ("later", "held", "closed", "imported"):
        assert f"Request {pwd_requests[left_out]}:" not in pwd_text
        assert f"/staff/requests/{pwd_requests[left_out]}" not in pwd_html
    assert f"Request {graffiti}:" not in pwd_text
    assert f'href="http://city311.test/staff/requests/{overdue}"' in pwd_html
    assert "http://city311.test/dispatch?department=PWD&amp;overdue=true" in pwd_html
    assert bodies(by_recipient[DESK])[0] == pwd_text

    parks_text, _ = bodies(by_recipient["parks.dispatcher@city.test"])
    assert "Overdue now: 1\nDue by the end of tomorrow: 0\n" in parks_text
    assert f"- Request {graffiti}: Graffiti, Skate park\n" in parks_text
    assert "Due by the end of tomorrow:\n" not in parks_text  # no empty section
    assert f"Request {overdue}:" not in parks_text


def test_a_department_with_nothing_due_gets_no_email_that_day(city, pwd_requests, mailbox):
    assert run_digest(MORNING) == 1  # Public Works only
    assert [r.recipient for r in digest_rows()] == ["dispatcher@city.test"]
    # the day's digest of Parks was settled, empty: what falls due later waits for tomorrow
    settled = db.session.scalars(select(OverdueDigest).order_by(OverdueDigest.department_id))
    assert {(d.department_id, d.overdue, d.due_soon, d.recipients) for d in settled} == {
        (city.public_works.id, 1, 1, 1),
        (city.parks.id, 0, 0, 0),
    }
    pin(submit("graffiti"), due_at=MORNING)
    assert run_digest(MORNING + timedelta(hours=2)) == 0
    assert run_digest(MORNING + timedelta(days=1)) == 2


def test_nothing_goes_before_the_hour_and_a_late_worker_catches_up(
    city, pwd_requests, restore_config
):
    assert run_digest(MORNING.replace(hour=6, minute=59)) == 0
    assert digest_rows() == []
    assert db.session.scalar(select(func.count()).select_from(OverdueDigest)) == 0
    # no worker ran at 7:00; the first run after it sends the day's digest
    assert run_digest(MORNING.replace(hour=10, minute=45)) == 1
    assert run_digest(MORNING.replace(hour=11, minute=0)) == 0
    assert len(digest_rows()) == 1
    # the hour is a setting, read in the city's time zone whatever the server's
    restore_config["OVERDUE_DIGEST_HOUR"] = 9
    wednesday = MORNING + timedelta(days=1)
    assert run_digest(wednesday.replace(hour=8, minute=59)) == 0
    assert run_digest(wednesday.replace(hour=9, minute=0)) == 1
    assert [r.dedupe_key for r in digest_rows()] == ["2026-12-01:PWD", "2026-12-02:PWD"]


def test_running_the_job_twice_sends_each_digest_once(city, pwd_requests, mailbox):
    assert run_digest(MORNING) == 1
    assert run_digest(MORNING + timedelta(minutes=15)) == 0
    by_recipient = delivered(mailbox, 1 + 6)  # and 5 receipts, 1 closure notice
    assert list(by_recipient) == ["dispatcher@city.test"]
    assert len([m for m in mailbox.messages if subject(m).startswith("Overdue")]) == 1
    [row] = digest_rows()
    assert (row.request_id, row.dedupe_key, row.status) == (None, "2026-12-01:PWD", "sent")


def test_the_outbox_owes_a_notice_about_no_request_once(city):
    """uq_outbox_once is NULLS NOT DISTINCT: a NULL request_id does not let a twin in."""
    first = service.queue_notice("overdue_digest", None, "a@city.test", {}, dedupe_key="k")
    again = service.queue_notice("overdue_digest", None, "a@city.test", {}, dedupe_key="k")
    other = service.queue_notice("overdue_digest", None, "b@city.test", {}, dedupe_key="k")
    assert first is not None and again is None and other is not None


def test_a_long_list_stops_at_fifty_and_links_the_queue(city, mailbox):
    for n in range(digest.MAX_ITEMS + 3):
        pin(submit("pothole", email=""), due_at=MORNING - timedelta(hours=n + 1))
    assert run_digest(MORNING) == 1
    [msg] = delivered(mailbox, 1).values()
    text, html = bodies(msg)
    assert "Overdue now: 53\n" in text
    assert text.count("- Request ") == digest.MAX_ITEMS
    assert (
        "...and 3 more. The whole queue, most overdue first:\n"
        "http://city311.test/dispatch?department=PWD&overdue=true\n"
    ) in text
    assert "…and 3 more." in html


def test_the_hour_must_be_an_hour():
    from app import create_app

    with pytest.raises(RuntimeError, match="OVERDUE_DIGEST_HOUR must be an hour from 0 to 23"):
        create_app("test", {"OVERDUE_DIGEST_HOUR": 24})


def test_only_active_dispatchers_of_the_department_and_its_address(city):
    city.parks.email = " Parks@City.test "
    make_user("PARKS.DISPATCHER2@city.test", "dispatcher", department_id=city.parks.id)
    db.session.flush()
    assert sorted(digest.recipients(city.parks)) == [
        "Parks@City.test",
        "parks.dispatcher2@city.test",
        "parks.dispatcher@city.test",
    ]
    db.session.execute(update(User).values(active=False))
    assert digest.recipients(city.parks) == ["Parks@City.test"]

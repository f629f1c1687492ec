"""'Is it fixed?': asked days after closing, answered without login, reopens when not fixed."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.core.clock import utcnow
from app.extensions import db
from app.notifications import survey, tasks
from app.requests import lifecycle
from app.requests.models import RequestEvent
from tests import factories
from tests.helpers import bearer
from tests.notifications.conftest import REPORTER, outbox_rows, parts, submit


def close(sr, reason: str = "fixed", note: str = "Patched.") -> None:
    lifecycle.close(sr, reason=reason, actor_id=None, note=note)
    db.session.commit()


def age_closing(sr, app, hours_more: float = 0.1) -> None:
    """Make the request's closing older than the question's delay."""
    delay = timedelta(hours=app.config["SURVEY_DELAY_HOURS"] + hours_more)
    sr.closed_at = utcnow() - delay
    db.session.commit()


def send_survey(sr, mailbox) -> dict[str, str]:
    """Owe the question now, send it; return its links by answer."""
    from flask import current_app

    age_closing(sr, current_app)
    assert survey.ask_due() == 1
    [row] = outbox_rows(sr.id, "survey")
    assert tasks.deliver(row.id) == "sent"
    msg = next(m for m in mailbox.wait_for(1) if "Is it fixed?" in m["Subject"])
    text, html, _ = parts(msg)
    text = text.replace("\r\n", "\n")
    links = dict(re.findall(r"(Yes, it is fixed|No, it is not fixed)[^\n]*:\n(\S+)", text))
    assert links["Yes, it is fixed"] in html.replace("&amp;", "&")
    return {
        "fixed": links["Yes, it is fixed"],
        "not_fixed": links["No, it is not fixed"],
        "rating_4": re.search(r"^4: (\S+)$", text, re.M).group(1),
    }


def events_of(request_id: int, kind: str) -> list[RequestEvent]:
    return list(
        db.session.scalars(
            select(RequestEvent).where(
                RequestEvent.request_id == request_id, RequestEvent.kind == kind
            )
        )
    )


def reopened_events(request_id: int) -> list[RequestEvent]:
    return events_of(request_id, "reopened")


def closings(request_id: int) -> list[RequestEvent]:
    return events_of(request_id, "closed")


def path_of(url: str) -> str:
    return url.removeprefix("http://city311.test")


def test_the_question_is_owed_days_after_closing_once(app, city, mailbox):
    sr = submit()
    close(sr)
    assert survey.ask_due() == 0  # closed just now
    age_closing(sr, app, hours_more=-0.5)
    assert survey.ask_due() == 0  # not quite yet
    age_closing(sr, app)
    assert survey.ask_due() == 1
    assert survey.ask_due() == 0  # owed once
    [row] = outbox_rows(sr.id, "survey")
    assert (row.recipient, row.status) == (REPORTER, "pending")
    assert row.payload["closed_event_id"] == max(e.id for e in closings(sr.id))


def test_no_question_for_a_referral_an_import_or_an_old_closing(app, city):
    referred = submit()
    close(referred, reason="referred", note="Gas company.")
    imported = factories.submit(channel="import", email=REPORTER)
    close(imported)
    old = submit()
    close(old)
    for sr in (referred, imported):
        age_closing(sr, app)
    age_closing(old, app, hours_more=24 * 8)
    assert survey.ask_due() == 0


def test_fixed_with_a_rating_is_stored_and_counted(client, city, mailbox, tokens):
    sr = submit()
    close(sr)
    links = send_survey(sr, mailbox)
    page = client.get(path_of(links["fixed"]))
    assert page.status_code == 200
    assert 'value="fixed" checked' in page.get_data(as_text=True)  # the GET stores nothing
    done = client.post(path_of(links["fixed"]), data={"answer": "fixed", "rating": "4"})
    assert done.status_code == 200
    assert "glad" in done.get_data(as_text=True)
    db.session.refresh(sr)
    assert sr.status == "closed"

    other = submit(code="graffiti")
    close(other)
    mailbox.clear()
    other_links = send_survey(other, mailbox)
    client.post(path_of(other_links["rating_4"]), data={"answer": "fixed", "rating": "2"})

    got = client.get(
        "/api/v1/metrics/satisfaction?group_by=department", headers=bearer(tokens["manager"])
    )
    assert got.status_code == 200
    groups = {g["key"]: g for g in got.get_json()["groups"]}
    assert groups["PWD"]["responses"] == 1 and groups["PWD"]["share_fixed"] == 1.0
    assert groups["PWD"]["mean_rating"] == 4.0
    assert groups["PARKS"]["mean_rating"] == 2.0
    by_type = client.get(
        "/api/v1/metrics/satisfaction?group_by=service_type", headers=bearer(tokens["admin"])
    ).get_json()
    assert {g["key"] for g in by_type["groups"]} == {"pothole", "graffiti"}


def test_not_fixed_reopens_with_the_comment_once(client, city, mailbox):
    sr = submit()
    close(sr)
    links = send_survey(sr, mailbox)
    form = {"answer": "not_fixed", "rating": "1", "comment": "Still a hole by the drain."}
    done = client.post(path_of(links["not_fixed"]), data=form)
    assert done.status_code == 200
    assert "reopened" in done.get_data(as_text=True)
    db.session.refresh(sr)
    assert sr.status == "acknowledged"
    [event] = reopened_events(sr.id)
    assert "Still a hole by the drain." in event.note
    # answering again changes the answer, but does not reopen a second time
    again = client.post(path_of(links["not_fixed"]), data=form)
    assert again.status_code == 200
    assert len(reopened_events(sr.id)) == 1
    # the question about that closing is moot once reopened: a later resend is superseded
    [row] = outbox_rows(sr.id, "survey")
    row.status, row.next_attempt_at = "pending", utcnow()
    db.session.commit()
    assert tasks.deliver(row.id) == "superseded"
    assert survey.ask_due() == 0  # open again: nothing to ask


def test_not_fixed_after_the_window_is_stored_without_reopening(
    client, city, mailbox, restore_config
):
    sr = submit()
    close(sr)
    links = send_survey(sr, mailbox)
    sr.closed_at = utcnow() - timedelta(days=restore_config["SURVEY_REOPEN_DAYS"] + 1)
    db.session.commit()
    done = client.post(path_of(links["not_fixed"]), data={"answer": "not_fixed"})
    assert done.status_code == 200
    assert "too long ago" in done.get_data(as_text=True)
    db.session.refresh(sr)
    assert sr.status == "closed"


def test_a_forged_or_altered_link_is_refused(client, city, mailbox):
    sr = submit()
    close(sr)
    links = send_survey(sr, mailbox)
    forged = path_of(links["not_fixed"]).replace("/survey/", "/survey/x")
    assert client.post(forged, data={"answer": "not_fixed"}).status_code == 404
    db.session.refresh(sr)
    assert sr.status == "closed"
    bad = client.post(path_of(links["fixed"]), data={"answer": "fixed", "rating": "9"})
    assert bad.status_code == 400


def test_the_satisfaction_api_is_for_managers(client, city, tokens):
    url = "/api/v1/metrics/satisfaction?group_by=department"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=bearer(tokens["dispatcher"])).status_code == 403
    bad = client.get(
        "/api/v1/metrics/satisfaction?group_by=ward", headers=bearer(tokens["manager"])
    )
    assert bad.status_code == 422

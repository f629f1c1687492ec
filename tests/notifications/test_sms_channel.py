"""A reporter who chooses text messages gets them, once, through the outbox and the SMS adapter."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.notifications import tasks
from app.notifications.models import Outbox
from app.requests import lifecycle, merging
from app.requests.models import ServiceRequest
from tests.factories import WARD_1_POINT
from tests.helpers import sign_in
from tests.notifications.conftest import REPORTER, close_with_photo, outbox_rows, submit

MOBILE = "+16175550199"


@pytest.fixture
def texts(restore_config, tmp_path) -> Path:
    """Send texts through the development backend into a fresh directory; return it."""
    restore_config["SMS_BACKEND"] = "file"
    restore_config["SMS_OUTBOX_DIR"] = str(tmp_path / "sms")
    return tmp_path / "sms"


def report(**fields: object) -> dict[str, object]:
    """Return a JSON report of a pothole with `fields` added."""
    where = {"lat": WARD_1_POINT[0], "long": WARD_1_POINT[1]}
    return {"service_code": "pothole", "description": "Deep pothole", **where, **fields}


def received(directory: Path) -> list[str]:
    """Return the bodies of the texts written so far, oldest first."""
    if not directory.exists():
        return []
    return [path.read_text(encoding="utf-8") for path in sorted(directory.glob("*.txt"))]


def test_a_reporter_who_chose_texts_gets_the_receipt_and_closure_by_text_once(city, texts, mailbox):
    sr = submit(notify="sms", phone="(617) 555-0199")
    db.session.commit()
    assert (sr.notify, sr.reporter_phone) == ("sms", MOBILE)  # stored as providers take it
    close_with_photo(sr)
    db.session.commit()

    assert tasks.drain() == 2
    assert tasks.drain() == 0  # a second drain finds nothing owed

    receipt, closure = received(texts)
    assert receipt == (
        f"To: {MOBILE}\n\nCity of Riverton: we got your report {sr.id}. Track it here: "
        f"http://city311.test/r/{sr.id}\n"
    )
    assert closure == (
        f"To: {MOBILE}\n\nCity of Riverton: your request {sr.id} is fixed. "
        f"http://city311.test/r/{sr.id}\n"
    )
    rows = outbox_rows(sr.id)
    assert {(r.event, r.channel, r.recipient, r.status, r.attempts) for r in rows} == {
        ("receipt", "sms", MOBILE, "sent", 1),
        ("closed", "sms", MOBILE, "sent", 1),
    }
    # texts only: the email address left on the form gets nothing
    assert mailbox.wait_for(1, timeout=0.5) == []


def test_both_channels_send_each_notice_by_email_and_by_text(city, texts, mailbox):
    sr = submit(notify="both", phone="617-555-0199", language="es")
    db.session.commit()
    lifecycle.acknowledge(sr, actor_id=None)
    db.session.commit()

    assert tasks.drain() == 4
    [receipt, seen] = received(texts)
    assert f"recibimos su reporte {sr.id}. Sigalo aqui: http://city311.test/r/{sr.id}" in receipt
    assert f"el departamento ya reviso su reporte {sr.id}." in seen
    messages = mailbox.wait_for(2)
    assert sorted(m["Subject"] for m in messages) == sorted(
        [
            f"Recibimos su reporte {sr.id}: Pothole",
            f"Public Works ya revisó su solicitud {sr.id}",
        ]
    )
    assert {m["To"] for m in messages} == {REPORTER}


def test_a_text_the_provider_cannot_take_now_waits_for_a_retry_and_email_still_goes(
    city, restore_config, mailbox
):
    # Twilio's base URL on a closed port: unreachable, so every attempt is "not now"
    restore_config.update(
        SMS_BACKEND="twilio",
        TWILIO_ACCOUNT_SID="AC1",
        TWILIO_AUTH_TOKEN="secret",
        SMS_FROM="+15550001111",
        TWILIO_API_URL="http://127.0.0.1:9",
    )
    sr = submit(notify="both", phone="617 555 0199")
    db.session.commit()
    [text_row] = [r for r in outbox_rows(sr.id) if r.channel == "sms"]
    assert tasks.deliver(text_row.id) == "retry"
    db.session.refresh(text_row)
    assert (text_row.status, text_row.attempts) == ("pending", 1)
    assert "unreachable" in text_row.last_error
    [email_row] = [r for r in outbox_rows(sr.id) if r.channel == "email"]
    assert tasks.deliver(email_row.id) == "sent"


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"notify": "sms"}, 400, "Give a mobile number to get updates by text."),
        ({"notify": "sms", "phone": "555-0100"}, 400, "To get text messages, give a mobile"),
        ({"notify": "email", "email": ""}, 400, "Give an email address to get updates by email."),
        ({"notify": "pigeon"}, 422, "Must be one of: email, sms, both, none."),
        ({"language": "fr"}, 422, "Must be one of: en, es."),
    ],
)
def test_the_api_refuses_a_channel_without_its_contact_and_stores_nothing(
    client, city, fields, status, message
):
    body = report(**({"email": REPORTER} | fields))
    before = db.session.scalar(select(db.func.count()).select_from(ServiceRequest))
    resp = client.post("/api/v1/requests", json=body)
    assert resp.status_code == status
    assert message in resp.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(ServiceRequest)) == before
    assert db.session.scalar(select(db.func.count()).select_from(Outbox)) == 0


def test_the_api_stores_the_channels_and_language_asked_for(client, city):
    body = report(phone="+44 20 7946 0958", notify="sms", language="es")
    resp = client.post("/api/v1/requests", json=body)
    assert resp.status_code == 201, resp.get_json()
    sr = db.session.get(ServiceRequest, resp.get_json()["id"])
    assert (sr.notify, sr.reporter_phone, sr.language) == ("sms", "+442079460958", "es")
    [row] = outbox_rows(sr.id)
    assert (row.event, row.channel, row.recipient) == ("receipt", "sms", "+442079460958")


def test_the_api_takes_the_language_from_accept_language_when_not_given(client, city):
    body = report(email=REPORTER)
    spanish = client.post("/api/v1/requests", json=body, headers={"Accept-Language": "es-MX"})
    plain = client.post("/api/v1/requests", json=body)
    assert db.session.get(ServiceRequest, spanish.get_json()["id"]).language == "es"
    sr = db.session.get(ServiceRequest, plain.get_json()["id"])
    assert (sr.language, sr.notify) == ("en", "email")  # email by default, as before


def test_the_form_offers_the_channels_and_the_browsers_language(client, city):
    page = client.get("/", headers={"Accept-Language": "es-419,es;q=0.9,en;q=0.5"})
    html = page.get_data(as_text=True)
    assert 'name="notify" value="sms"' in html
    assert '<option value="es" lang="es" selected>Español</option>' in html

    form = {
        "service_code": "pothole",
        "description": "Deep pothole",
        "lat": str(WARD_1_POINT[0]),
        "long": str(WARD_1_POINT[1]),
        "phone": "617.555.0199",
        "notify": "sms",
    }
    headers = {"Accept-Language": "es-419,es;q=0.9"}
    resp = client.post("/", data=form, headers=headers)
    assert resp.status_code == 303
    sr = db.session.get(ServiceRequest, int(resp.headers["Location"].rsplit("/", 1)[1]))
    assert (sr.notify, sr.reporter_phone, sr.language) == ("sms", MOBILE, "es")

    # an explicit choice on the form wins over the browser's
    resp = client.post("/", data=form | {"language": "en"}, headers=headers)
    sr = db.session.get(ServiceRequest, int(resp.headers["Location"].rsplit("/", 1)[1]))
    assert sr.language == "en"

    refused = client.post("/", data=form | {"phone": ""})
    assert refused.status_code == 400
    assert "Give a mobile number to get updates by text." in refused.get_data(as_text=True)

    # staff see the choice next to the reporter's contact
    sign_in(client, city.users["dispatcher"])
    detail = client.get(f"/staff/requests/{sr.id}").get_data(as_text=True)
    assert "<dt>Updates</dt><dd>Text message only, in English</dd>" in detail


def test_a_merged_duplicates_texting_reporter_hears_of_the_merge_and_the_fix(city, texts):
    original = submit(email="first@example.org")
    dup = submit(email="", phone="617 555 0199", notify="sms", language="es")
    db.session.commit()
    merging.merge(dup.id, original.id, actor_id=None, note="Same hole")
    close_with_photo(original)
    db.session.commit()

    tasks.drain()
    texts_sent = received(texts)
    assert texts_sent[1:] == [
        f"To: {MOBILE}\n\nCity of Riverton: su reporte {dup.id} se unio a otro anterior del "
        f"mismo problema. http://city311.test/r/{dup.id}\n",
        f"To: {MOBILE}\n\nCity of Riverton: su solicitud {dup.id} esta resuelta. "
        f"http://city311.test/r/{dup.id}\n",
    ]
    assert "recibimos su reporte" in texts_sent[0]
    # the original's reporter is emailed only; nobody is texted twice
    assert [r.recipient for r in outbox_rows(original.id) if r.channel == "sms"] == [MOBILE]

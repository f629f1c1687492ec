"""Every notice in the recipient's language: English and Spanish, through to the mailbox."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.core.clock import to_city_time
from app.extensions import db
from app.notifications import mail, sms, tasks
from app.notifications.models import Outbox
from app.requests import lifecycle, subscribers
from app.requests.models import CLOSURE_REASONS, HOLD_REASONS, RequestSubscriber
from app.requests.words import closure_email_words
from tests.notifications.conftest import REPORTER, close_with_photo, parts, submit

FAN = "fan@example.org"
NOTE = "Crew booked"

#: every notice a resident may get, with what its outbox row carries
NOTICES: list[tuple[str, dict[str, Any]]] = [
    ("receipt", {}),
    ("acknowledged", {"note": NOTE}),
    ("assigned", {"note": NOTE}),
    *[("on_hold", {"reason": reason, "note": NOTE}) for reason in HOLD_REASONS],
    ("resumed", {}),
    ("transferred", {"department": "Parks"}),
    ("reopened", {}),
    *[("closed", {"reason": reason, "note": NOTE}) for reason in CLOSURE_REASONS],
    ("merged", {"reason": "duplicate"}),
    ("survey", {"closed_event_id": 1}),
    ("follow_confirm", {}),
]
#: words both languages write the same way
SHARED_WORDS = {"a", "no"}
_URL = re.compile(r"(?:https?://|cid:)\S+")
_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[^\W\d_]+")


def words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(_TAG.sub(" ", _URL.sub(" ", text)))}


def render(sr, event: str, payload: dict[str, Any], lang: str) -> tuple[str, str, str]:
    """Return (subject, text, html) of a notice in a language, as the worker builds it."""
    row = Outbox(
        id=1,
        event=event,
        request_id=sr.id,
        recipient=REPORTER,
        channel="email",
        payload={"request_id": sr.id, "lang": lang, "into": sr.id, **payload},
    )
    msg = mail.build_message(row)
    assert msg["Content-Language"] == lang
    text, html, _ = parts(msg)
    return str(msg["Subject"]), text, html


@pytest.mark.parametrize(("event", "payload"), NOTICES, ids=lambda v: str(v))
def test_every_notice_in_spanish_has_no_english_left_in_its_fixed_text(app, city, event, payload):
    sr = submit()
    db.session.commit()
    data = words(
        " ".join(
            [
                sr.description,
                sr.address,
                sr.service_type.name,
                sr.department.name,
                "Parks",
                NOTE,
                app.config["CITY_NAME"],
                f"{to_city_time(sr.due_at):%Z}",  # the time zone's abbreviation
            ]
        )
    )
    english = render(sr, event, payload, "en")
    spanish = render(sr, event, payload, "es")
    for en, es in zip(english, spanish, strict=True):
        assert en != es
        leftovers = (words(es) & words(en)) - data - SHARED_WORDS
        assert not leftovers, (event, payload, leftovers, es)
    assert '<html lang="es">' in spanish[2]
    assert '<html lang="en">' in english[2]


def test_dates_are_written_in_the_city_time_zone_the_languages_way(city):
    sr = submit()
    db.session.commit()
    due = to_city_time(sr.due_at)
    _, english, _ = render(sr, "receipt", {}, "en")
    _, spanish, _ = render(sr, "receipt", {}, "es")
    assert due.strftime("%A %b %d, %Y at %I:%M %p %Z") in english
    months = "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre"
    month = [*months.split(), "diciembre"][due.month - 1]
    hour = f"{due.hour % 12 or 12}:{due.minute:02d} {'a. m.' if due.hour < 12 else 'p. m.'}"
    assert f" {due.day} de {month} de {due.year} a las {hour} {due:%Z}" in spanish


def test_a_spanish_reporter_gets_spanish_mail_through_the_outbox(city, mailbox):
    sr = submit(language="es")
    db.session.commit()
    lifecycle.put_on_hold(sr, actor_id=None, reason="materials")
    db.session.commit()
    close_with_photo(sr, note="Bache rellenado con asfalto.")
    db.session.commit()

    assert tasks.drain() == 2  # the receipt and the closure: the hold was superseded
    messages = {m["Subject"]: m for m in mailbox.wait_for(2)}
    assert set(messages) == {
        f"Recibimos su reporte {sr.id}: Pothole",
        f"Su solicitud {sr.id} está resuelta",
    }
    closure = messages[f"Su solicitud {sr.id} está resuelta"]
    assert closure["Content-Language"] == "es"
    text, html, attachments = parts(closure)
    assert text.startswith("El problema que usted reportó ya fue reparado.")
    assert "Nota de la cuadrilla:\nBache rellenado con asfalto." in text.replace("\r\n", "\n")
    assert "Adjuntamos la foto del trabajo terminado" in text
    assert "Dejar de recibir correos sobre esta solicitud" in html
    assert len(attachments) == 1


def test_a_follower_keeps_their_own_language(client, city, mailbox):
    sr = submit()  # an English-speaking reporter
    db.session.commit()
    client.post(
        f"/requests/{sr.id}/follow", data={"email": FAN}, headers={"Accept-Language": "es-US"}
    )
    tasks.drain()
    [confirm] = [m for m in mailbox.wait_for(2) if m["To"] == FAN]
    assert confirm["Subject"] == f"Confirme: seguir la solicitud {sr.id}"
    url = re.search(r"confirme con este enlace:\s+(\S+)", parts(confirm)[0]).group(1)
    client.get(url.removeprefix("http://city311.test"))
    assert db.session.query(RequestSubscriber.language).filter_by(email=FAN).scalar() == "es"

    mailbox.clear()
    lifecycle.put_on_hold(sr, actor_id=None, reason="weather")
    db.session.commit()
    tasks.drain()
    told = {m["To"]: m["Subject"] for m in mailbox.wait_for(2)}
    assert told == {
        REPORTER: f"Your request {sr.id} is on hold: waiting for the weather",
        FAN: f"Su solicitud {sr.id} está en pausa: en espera de buen tiempo",
    }
    assert [r.language for r in subscribers.recipients(sr)] == ["en", "es"]


def test_every_text_message_in_spanish_has_no_english_left(app):
    with app.test_request_context():
        for event in sorted(sms.SMS_EVENTS):
            en = sms.sms_text(event, 1234, "en", phrase=closure_email_words("fixed", "en")[0])
            es = sms.sms_text(event, 1234, "es", phrase=closure_email_words("fixed", "es")[0])
            city = words(app.config["CITY_NAME"])
            assert not (words(es) & words(en)) - city - SHARED_WORDS, (event, es)

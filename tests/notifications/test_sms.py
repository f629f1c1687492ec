"""The SMS channel: 160 characters with a short link, a file backend, Twilio's REST API."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import pytest

from app.extensions import db
from app.notifications import service, sms, tasks
from app.requests.models import CLOSURE_REASONS
from app.requests.words import LANGUAGES, closure_email_words
from tests.conftest import free_port
from tests.notifications.conftest import outbox_rows, submit

#: the longest request number a city will reach, and a realistic public address
LONG_NUMBER = 9_999_999_999
BASE_URL = "https://311.riverton-city.gov"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_event_fits_in_one_gsm7_message_with_its_short_link(app, restore_config, language):
    restore_config["CITY_NAME"] = "The Consolidated City and County of Somewhere Quite Long"
    restore_config["PUBLIC_BASE_URL"] = BASE_URL
    phrases = [""] + [closure_email_words(r, language)[0] for r in (*CLOSURE_REASONS, "new")]
    with app.test_request_context():
        for event in (*sms.SMS_EVENTS, "unknown"):
            for phrase in phrases if event == "closed" else [""]:
                text = sms.sms_text(event, LONG_NUMBER, language, phrase=phrase)
                # gsm7_length raises on a character that would force UCS-2 (70 per message)
                assert sms.gsm7_length(text) <= sms.SMS_LIMIT, text
                assert str(LONG_NUMBER) in text
                assert text.endswith(f"{BASE_URL}/r/{LONG_NUMBER}")
                assert "{" not in text


def test_a_short_city_name_is_kept_and_spanish_loses_only_the_accents_gsm7_lacks(
    app, restore_config
):
    restore_config["CITY_NAME"] = "Riverton"
    restore_config["PUBLIC_BASE_URL"] = BASE_URL
    with app.test_request_context():
        phrase = closure_email_words("could_not_locate", "es")[0]
        text = sms.sms_text("closed", 1234, "es", phrase=phrase)
    assert text == (
        f"Riverton: su solicitud 1234 se cerro: no se encontro el problema. {BASE_URL}/r/1234"
    )
    assert sms.to_gsm7("¿Sí? Año, café, pingüino… “ok”") == '¿Si? Año, café, pingüino... "ok"'
    with pytest.raises(ValueError):
        sms.gsm7_length("está")


def test_the_short_link_leads_to_the_tracking_page(client, city):
    resp = client.get("/r/42")
    assert resp.status_code == 301
    assert resp.headers["Location"].endswith("/requests/42")


def test_the_development_backend_writes_each_text_to_a_file(app, restore_config, tmp_path):
    restore_config["SMS_OUTBOX_DIR"] = str(tmp_path / "sms")
    with app.app_context():
        where = sms.backend().send("+1 555 0100", "Riverton: we got your report 7.")
    files = list((tmp_path / "sms").iterdir())
    assert [str(f) for f in files] == [where]
    assert files[0].read_text() == "To: +1 555 0100\n\nRiverton: we got your report 7.\n"


class TwilioLike(BaseHTTPRequestHandler):
    """Answers as Twilio's Messages resource does; refuses one number, fails on another."""

    received: list[tuple[str, str, dict]] = []

    def do_POST(self):  # noqa: N802 (http.server hook name)
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        TwilioLike.received.append((self.path, self.headers["Authorization"], form))
        to = form["To"][0]
        code = 400 if to == "+10000000000" else 503 if to == "+19999999999" else 201
        body = {"sid": "SM123"} if code == 201 else {"code": 21211, "message": "bad"}
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def twilio_like():
    port = free_port()
    server = HTTPServer(("127.0.0.1", port), TwilioLike)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    TwilioLike.received = []
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()


def test_the_twilio_backend_posts_the_message_and_sorts_failures(app, restore_config, twilio_like):
    restore_config.update(
        SMS_BACKEND="twilio",
        TWILIO_ACCOUNT_SID="AC1",
        TWILIO_AUTH_TOKEN="secret",
        SMS_FROM="+15550001111",
        TWILIO_API_URL=twilio_like,
    )
    with app.app_context():
        backend = sms.backend()
        assert backend.send("+15550100", "hello") == "SM123"
        with pytest.raises(sms.SmsRefused):
            backend.send("+10000000000", "hello")
        with pytest.raises(sms.SmsUnavailable):
            backend.send("+19999999999", "hello")
    path, auth, form = TwilioLike.received[0]
    assert path == "/2010-04-01/Accounts/AC1/Messages.json"
    assert auth == "Basic " + base64.b64encode(b"AC1:secret").decode()
    assert form == {"To": ["+15550100"], "From": ["+15550001111"], "Body": ["hello"]}


def test_a_number_the_provider_refuses_fails_at_once_and_is_listed(
    app, city, restore_config, twilio_like
):
    restore_config.update(
        SMS_BACKEND="twilio",
        TWILIO_ACCOUNT_SID="AC1",
        TWILIO_AUTH_TOKEN="secret",
        SMS_FROM="+15550001111",
        TWILIO_API_URL=twilio_like,
    )
    sr = submit(email="", phone="+1 000 000 0000", notify="sms")
    db.session.commit()
    [row] = outbox_rows(sr.id)
    assert tasks.deliver(row.id) == "failed"
    db.session.refresh(row)
    assert (row.channel, row.status, row.attempts) == ("sms", "failed", 1)
    assert "Twilio refused the message (400)" in row.last_error
    assert [r.id for r in service.failed_rows()] == [row.id]
    [(_, _, form)] = TwilioLike.received
    assert form["To"] == ["+10000000000"]
    assert form["Body"][0].startswith(f"City of Riverton: we got your report {sr.id}.")

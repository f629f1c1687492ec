"""The SMS channel: 160 characters with a short link, a file backend, Twilio's REST API."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import pytest

from app.notifications import sms
from tests.conftest import free_port


def test_every_event_fits_in_160_characters_with_its_short_link(app, restore_config):
    restore_config["CITY_NAME"] = "The Consolidated City and County of Somewhere Quite Long"
    restore_config["PUBLIC_BASE_URL"] = "https://311.example.gov"
    with app.test_request_context():
        for event in (*sms._WORDS, "unknown"):
            text = sms.sms_text(event, 1234567)
            assert len(text) <= sms.SMS_LIMIT, text
            assert "1234567" in text and text.endswith("https://311.example.gov/r/1234567")


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

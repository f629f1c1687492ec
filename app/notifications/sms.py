"""Text messages: one small adapter interface, a development backend and Twilio's REST API.

A reporter who chose texts on the form (notify "sms" or "both") is owed an outbox row on
the "sms" channel for each notice of SMS_EVENTS; the worker delivers it through the backend
SMS_BACKEND names, once, like an email. Each text fits in one 160-character GSM-7 message,
its short tracking link included: letters outside the GSM alphabet (á, í, ó, ú, curly
quotes) are written without their accent, since one of them would make the whole message
UCS-2 and cut it to 70 characters.
"""

from __future__ import annotations

import base64
import json
import os
import re
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Protocol

from flask import current_app

from app.core.clock import utcnow
from app.notifications import wording
from app.notifications.models import OUTBOX_EVENTS, Outbox
from app.requests.words import closure_email_words

SMS_LIMIT = 160
#: what a reporter who chose texts is told by text; the survey's links and a follower's
#: confirmation need an email
SMS_EVENTS = frozenset(OUTBOX_EVENTS) - {"overdue_digest"}
#: the GSM 03.38 default alphabet (one septet each) and its extension table (two each)
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")
_PUNCTUATION = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def to_gsm7(text: str) -> str:
    """Return the text in the GSM-7 alphabet: accents it lacks dropped, the rest as "?"."""
    out = []
    for char in text.translate(_PUNCTUATION).replace("…", "..."):
        if char in GSM7_BASIC or char in GSM7_EXTENDED:
            out.append(char)
            continue
        base = unicodedata.normalize("NFKD", char)[:1]
        out.append(base if base in GSM7_BASIC else "?")
    return "".join(out)


def gsm7_length(text: str) -> int:
    """Return how many septets the text takes in GSM-7.

    :raises ValueError: a character outside the GSM-7 alphabet.
    """
    length = 0
    for char in text:
        if char in GSM7_BASIC:
            length += 1
        elif char in GSM7_EXTENDED:
            length += 2
        else:
            raise ValueError(f"{char!r} is not in the GSM-7 alphabet")
    return length


class SmsRefused(Exception):
    """The provider refused this message for good (a bad number, …): do not retry."""


class SmsUnavailable(OSError):
    """The provider is down or busy: try again later (an OSError, like SMTP's failures)."""


class SmsBackend(Protocol):
    def send(self, to: str, body: str) -> str:
        """Send one text; return where it went (a path, a provider's message id)."""
        ...


def short_link(request_id: int) -> str:
    """Return the shortest tracking link: PUBLIC_BASE_URL/r/<id>."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/r/{request_id}"


def sms_text(event: str, request_id: int, language: str = "en", *, phrase: str = "") -> str:
    """Return the text of an event's SMS: one GSM-7 message of 160 characters at most.

    The link always ends it; a long city name gives way to "311", and words to the link.
    """
    link = short_link(request_id)
    words = wording.sms_words(event, language)
    for city in (current_app.config["CITY_NAME"], "311"):
        text = to_gsm7(f"{words.format(city=city, n=request_id, phrase=phrase)} {link}")
        if gsm7_length(text) <= SMS_LIMIT:
            return text
    room = SMS_LIMIT - gsm7_length(to_gsm7(link)) - 1
    head = to_gsm7(words.format(city="311", n=request_id, phrase=phrase))
    while gsm7_length(head) > room:  # only a PUBLIC_BASE_URL of ~100 characters gets here
        head = head[:-1]
    return f"{head.rstrip()} {link}"


def build_text(row: Outbox) -> str:
    """Return the text message an outbox row on the "sms" channel owes."""
    payload = row.payload
    language = wording.language_of(payload.get("lang"))
    request_id = int(payload.get("own_request_id") or row.request_id or 0)
    phrase = ""
    if row.event == "closed":
        phrase = closure_email_words(payload.get("reason") or "fixed", language)[0]
    return sms_text(row.event, request_id, language, phrase=phrase)


class FileBackend:
    """Development: write each text to a file in SMS_OUTBOX_DIR instead of sending it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, to: str, body: str) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        digits = re.sub(r"\D", "", to) or "unknown"
        path = self.directory / f"{utcnow():%Y%m%dT%H%M%S%fZ}-{digits}.txt"
        tmp = path.with_suffix(".part")
        tmp.write_text(f"To: {to}\n\n{body}\n", encoding="utf-8")
        os.replace(tmp, path)
        return str(path)


class TwilioBackend:
    """Send through Twilio's REST API (Messages resource), with the standard library."""

    def __init__(
        self, account_sid: str, auth_token: str, from_number: str, base_url: str, timeout: float
    ) -> None:
        self.account_sid, self.auth_token, self.from_number = account_sid, auth_token, from_number
        self.base_url, self.timeout = base_url.rstrip("/"), timeout

    def send(self, to: str, body: str) -> str:
        url = f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        data = urllib.parse.urlencode({"To": to, "From": self.from_number, "Body": body})
        auth = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        request = urllib.request.Request(
            url, data=data.encode(), method="POST", headers={"Authorization": f"Basic {auth}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return str(json.loads(response.read())["sid"])
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:500]
            # 429 and 5xx say "not now"; any other 4xx (a bad number) will not get better
            if exc.code == 429 or exc.code >= 500:
                raise SmsUnavailable(f"Twilio answered {exc.code}: {detail}") from exc
            raise SmsRefused(f"Twilio refused the message ({exc.code}): {detail}") from exc
        except (urllib.error.URLError, TimeoutError) as exc:
            raise SmsUnavailable(f"Twilio is unreachable: {exc}") from exc


def backend() -> SmsBackend:
    """Return the backend SMS_BACKEND names: "file" (the default) or "twilio"."""
    config = current_app.config
    if config["SMS_BACKEND"] == "twilio":
        return TwilioBackend(
            config["TWILIO_ACCOUNT_SID"] or "",
            config["TWILIO_AUTH_TOKEN"] or "",
            config["SMS_FROM"] or "",
            config["TWILIO_API_URL"],
            float(config["SMTP_TIMEOUT"]),
        )
    return FileBackend(Path(config["SMS_OUTBOX_DIR"]))

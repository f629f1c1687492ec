"""Text messages: one small adapter interface, a development backend and Twilio's REST API.

Not yet wired to the outbox: a request does not record that its reporter chose SMS (the
report form has no such choice yet), and texting every phone number left on a report would
be unasked for. What is here is the channel itself: the 160-character wording with a short
tracking link, and the backends, chosen by SMS_BACKEND.
"""

from __future__ import annotations

import base64
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Protocol

from flask import current_app

from app.core.clock import utcnow

SMS_LIMIT = 160
_WORDS = {
    "receipt": "{city}: we got your report {n}.",
    "acknowledged": "{city}: report {n} was seen by the department.",
    "assigned": "{city}: a crew is scheduled for report {n}.",
    "on_hold": "{city}: report {n} is on hold.",
    "resumed": "{city}: work on report {n} has resumed.",
    "transferred": "{city}: report {n} moved to another department, same number.",
    "reopened": "{city}: report {n} was reopened.",
    "closed": "{city}: report {n} is closed.",
    "merged": "{city}: report {n} was merged with an earlier one.",
}


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


def sms_text(event: str, request_id: int) -> str:
    """Return the text of an event's SMS, at most 160 characters with its tracking link."""
    link = short_link(request_id)
    city = current_app.config["CITY_NAME"]
    words = _WORDS.get(event, "{city}: news about report {n}.")
    text = f"{words.format(city=city, n=request_id)} {link}"
    if len(text) > SMS_LIMIT:  # a long city name gives way, never the number or the link
        text = f"{words.format(city='311', n=request_id)} {link}"
    return text[:SMS_LIMIT]


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

"""The limits on anonymous reports: per client address, and a day's cap per email or phone.

The form and the JSON API count one report per address together (RATELIMIT_REPORT), so
that neither doubles the other's allowance.

A per-address limit does not stop one person on many connections (a phone network hands out
new addresses) filling the queue under one name; the day's cap per contact does. Both apply
to what residents and client apps send, not to what staff log: an agent may take many calls
from one caller.

The count is kept with the other rate limits (limits.hit_all: each process's, summed in
Redis), not read from the requests table, so that intake stays one statement; if Redis is
down, each process caps on its own.
"""

from __future__ import annotations

import hashlib
import re

from flask import current_app
from flask_babel import gettext

from app.core import limits
from app.core.limits import client_address

_NOT_DIGIT = re.compile(r"\D+")


def _who(kind: str, value: str) -> str:
    # the contact is not kept in Redis as it was typed: only a digest of it
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


def address_count() -> limits.Count:
    """Return the count one report makes against RATELIMIT_REPORT, per client address."""
    return (current_app.config["RATELIMIT_REPORT"], ("report", client_address()), None)


def check(email: str, phone: str) -> None:
    """Count one report from this email and this phone; refuse it past the day's cap.

    :raises RateLimited: REPORTS_PER_CONTACT_PER_DAY reached (429, with Retry-After).
    """
    limits.hit_all(counts(email, phone))


def counts(email: str, phone: str) -> list[limits.Count]:
    """Return the counts one report makes against the cap (for limits.hit_all)."""
    cap = int(current_app.config["REPORTS_PER_CONTACT_PER_DAY"])
    if cap <= 0:
        return []

    def message() -> str:
        # the resident form's page language; the API is always English. Translated only
        # for a refusal: intake is the hot path
        return gettext(
            "We have already received %(count)s reports from this contact today; thank you. "
            "Please wait before sending more, or call 311 if it is urgent.",
            count=cap,
        )

    email = (email or "").strip().lower()
    digits = _NOT_DIGIT.sub("", phone or "")
    return [
        (f"{cap}/day", ("contact", _who(kind, value)), message)
        for kind, value in (("email", email), ("phone", digits))
        if value
    ]

"""A cap on the reports one email address or phone number makes in a day.

A per-address limit does not stop one person on many connections (a phone network hands out
new addresses) filling the queue under one name; this does. It applies to what residents and
client apps send, not to what staff log: an agent may take many calls from one caller.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select

from app.core.clock import utcnow
from app.core.limits import RateLimited
from app.extensions import db
from app.requests.models import ServiceRequest

WINDOW = timedelta(days=1)


def check(email: str, phone: str) -> None:
    """Refuse one more report from a contact that made REPORTS_PER_CONTACT_PER_DAY today.

    :raises RateLimited: the cap is reached (429, Retry-After: when the oldest of the day's
        reports is a day old).
    """
    cap = int(current_app.config["REPORTS_PER_CONTACT_PER_DAY"])
    email, phone = (email or "").strip().lower(), (phone or "").strip()
    if cap <= 0 or not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    same = [ServiceRequest.reporter_email == email] if email else []
    same += [ServiceRequest.reporter_phone == phone] if phone else []
    if not same:
        return
    since = utcnow() - WINDOW
    times = list(
        db.session.scalars(
            select(ServiceRequest.requested_at)
            .where(or_(*same), ServiceRequest.requested_at > since)
            .order_by(ServiceRequest.requested_at.desc())
            .limit(cap)
        )
    )
    if len(times) < cap:
        return
    retry = int((min(times) + WINDOW - utcnow()).total_seconds()) + 1
    raise RateLimited(
        f"We have already received {cap} reports from this contact today; thank you. "
        "Please wait before sending more, or call 311 if it is urgent.",
        retry_after=retry,
    )

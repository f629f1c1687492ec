"""Personal data kept only as long as needed: the retention purge, a resident's export and erasure.

What a request says about a person (the reporter's name, email, phone, device and account
ids; the addresses of those who follow it; the original photo files, which carry GPS and
camera metadata; the addresses its emails went to and the survey comments) is removed
PRIVACY_RETENTION_DAYS after it closed. The anonymous record stays: type, place,
description, public photo copies, every timestamp and the history the KPIs are read from.
Features above requests forget their share by answering the signals in app/requests/signals.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app

from app.core import app_object
from app.core.audit import record
from app.core.clock import utcnow
from app.extensions import db
from app.media import retention
from app.requests import personal_data, signals

log = logging.getLogger(__name__)

#: when the worker's scheduler runs the purge (worker-local time; once a day is plenty)
PURGE_CRON = "17 3 * * *"
#: requests purged per transaction
PURGE_BATCH = 500


@dataclass
class PurgeResult:
    requests: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, counts: dict[str, int]) -> None:
        for key, value in counts.items():
            self.counts[key] = self.counts.get(key, 0) + value


def cutoff(now: datetime | None = None) -> datetime:
    """Return the close time before which a request's personal data is removed."""
    days = int(current_app.config["PRIVACY_RETENTION_DAYS"])
    return (now or utcnow()) - timedelta(days=days)


def _signal_counts(signal: Any, **kwargs: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _receiver, answer in signal.send(app_object(), **kwargs):
        for key, value in (answer or {}).items():
            counts[key] = counts.get(key, 0) + int(value)
    return counts


def purge_batch(closed_before: datetime, limit: int = PURGE_BATCH) -> PurgeResult:
    """Remove the personal data of up to `limit` requests closed before `closed_before`.

    Flushes, never commits: the caller commits each batch. An empty result means done.
    """
    ids = personal_data.due_for_purge(closed_before, limit)
    result = PurgeResult(len(ids))
    if not ids:
        return result
    result.add({"follows": personal_data.purge(ids)})
    result.add({"original_photos": retention.drop_originals(ids)})
    result.add(_signal_counts(signals.personal_data_purged, request_ids=ids))
    db.session.flush()
    return result


def purge(now: datetime | None = None) -> PurgeResult:
    """Purge every request due, a batch per transaction; audit the run when it did anything."""
    closed_before = cutoff(now)
    total = PurgeResult()
    while True:
        batch = purge_batch(closed_before)
        if not batch.requests:
            break
        total.requests += batch.requests
        total.add(batch.counts)
        db.session.commit()
    if total.requests:
        record(
            None,
            "privacy.purge",
            ("privacy", "", f"{total.requests} requests closed before {closed_before:%Y-%m-%d}"),
            after={"requests": total.requests, "closed_before": closed_before, **total.counts},
        )
        db.session.commit()
        log.info("privacy purge: %s requests, %s", total.requests, total.counts)
    return total


def purge_job() -> int:
    """The worker's daily purge (idempotent: several workers may run it); return the count."""
    return purge().requests


def email_digest(email: str) -> str:
    """Return a keyed hash of an address: the audit can say "this one" without holding it."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()[:32]


def export(email: str) -> dict[str, Any]:
    """Return, JSON-ready, every request the address reported or follows and its messages."""
    email = email.strip()
    data: dict[str, Any] = {"email": email, "exported_at": utcnow().isoformat()}
    data.update(personal_data.of_email(email))
    for _receiver, answer in signals.personal_data_requested.send(app_object(), email=email):
        data.update(answer or {})
    return data


def erase(email: str) -> dict[str, int]:
    """Remove the address's contact data from every request, follow and message; audit it.

    The requests stay, anonymous; their original photo files go, as in the purge. The
    audit entry names the address by a keyed hash and counts what was removed. Flushes,
    never commits.
    """
    email = email.strip()
    reported, follows = personal_data.erase_email(email)
    counts = {"requests": len(reported), "follows": follows}
    counts["original_photos"] = retention.drop_originals(reported)
    counts.update(_signal_counts(signals.personal_data_erased, email=email))
    digest = f"hmac:{email_digest(email)}"
    record(None, "privacy.erase", ("resident", digest, f"contact data of {digest}"), after=counts)
    return counts


def init_app(app: Flask) -> None:
    """Check PRIVACY_RETENTION_DAYS and have the worker's scheduler run the purge daily."""
    from app.core.queue import register_cron

    days = app.config["PRIVACY_RETENTION_DAYS"]
    if int(days) < 1:
        raise RuntimeError(f"PRIVACY_RETENTION_DAYS must be 1 or more days, not {days}.")
    register_cron(app, purge_job, PURGE_CRON, queue="default")

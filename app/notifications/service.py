"""Write what the reporter is owed into the outbox, inside the transaction that caused it.

The receivers below run in the sender's transaction (see app/requests/signals.py): the
outbox row commits or rolls back with the request, and its delivery job is pushed only
after the commit. If Redis is down then, the row waits in PostgreSQL for the sweeper.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from sqlalchemy import select, text

from app.core.clock import utcnow
from app.core.errors import Conflict, NotFound
from app.extensions import db
from app.notifications import follow, sms, tasks
from app.notifications.models import Outbox
from app.requests import signals, subscribers
from app.requests.models import ServiceRequest

#: bulk loads of historical requests must not email their reporters
SILENT_CHANNELS = frozenset({"import"})

#: one statement per notice: an address that stopped this request's emails (unsubscribes) is
#: owed nothing, unless :always (a follow request); a row written sends a NOTIFY that wakes a
#: worker when the transaction commits (app/core/wakeups.py), so no Redis call is made here
_INSERT_OUTBOX = text(
    f"""
    WITH owed AS (
    INSERT INTO outbox (event, request_id, recipient, dedupe_key, channel, payload, status,
                        attempts, next_attempt_at)
    SELECT CAST(:event AS varchar), CAST(:request_id AS bigint), CAST(:recipient AS varchar),
           CAST(:dedupe_key AS varchar), CAST(:channel AS varchar), CAST(:payload AS jsonb),
           'pending', 0,
           CAST(:now AS timestamptz)
    WHERE CAST(:always AS boolean) OR NOT EXISTS (
        SELECT 1 FROM unsubscribes u
        WHERE u.request_id = CAST(:request_id AS bigint)
          AND u.email = lower(CAST(:recipient AS varchar))
    )
    ON CONFLICT (event, request_id, recipient, dedupe_key) DO NOTHING
    RETURNING id
    )
    SELECT owed.id FROM owed, LATERAL pg_notify('{tasks.OUTBOX_CHANNEL}', '') AS wake
    """
)


def queue_notice(
    event: str,
    request_id: int | None,
    recipient: str,
    payload: dict[str, Any],
    *,
    dedupe_key: str = "",
    channel: str = "email",
) -> int | None:
    """Write an outbox row, whose commit wakes a worker to deliver it; return its id.

    The recipient is an email address, or a phone number in E.164 form for channel "sms";
    payload["lang"] is the language the notice is written in (else the request's).

    Return None when the same notice is already owed to this recipient (one receipt per
    request, one closure notice per closing, one digest per department and day), so that
    nothing is sent twice. `request_id` is None for a notice about no one request.
    """
    recipient = (recipient or "").strip()
    if not recipient:
        return None
    outbox_id = db.session.execute(
        _INSERT_OUTBOX,
        {
            "event": event,
            "request_id": request_id,
            "recipient": recipient,
            "dedupe_key": dedupe_key,
            "channel": channel,
            "payload": json.dumps(payload, separators=(",", ":")),
            "now": utcnow(),
            "always": request_id is None or event == follow.FOLLOW_EVENT,
        },
    ).scalar_one_or_none()
    return outbox_id


def owe_everyone(
    event: str, sr: ServiceRequest, payload: dict[str, Any], *, dedupe_key: str
) -> None:
    """Owe a notice to everyone the request tells: by email, and by text to reporters who chose.

    Each recipient gets it in their own language, and a merged duplicate's reporter hears
    of it under the number they know.
    """
    # (recipient, channel, the number they know it by if another, language)
    owed = [
        (person.email, "email", person.own_request_id, person.language)
        for person in subscribers.recipients(sr)
    ]
    if event in sms.SMS_EVENTS:
        owed += [(t.phone, "sms", t.own_request_id, t.language) for t in subscribers.texted(sr)]
    for recipient, channel, own, language in owed:
        mine = {"own_request_id": own} if own else {}
        queue_notice(
            event,
            sr.id,
            recipient,
            {**payload, **mine, "lang": language},
            dedupe_key=dedupe_key,
            channel=channel,
        )


def on_request_closed(
    sender: Flask,
    *,
    request_id: int,
    reason: str,
    note: str,
    photo_id: int | None,
    work_order_id: int | None,
    event_id: int,
    **_: Any,
) -> None:
    """Owe a closure notice, with the crew's note and photo, to everyone the request tells.

    That is its reporter (by email, text or both, as chosen) and its subscribers (the
    reporters of duplicates merged into it, followers), one notice each. A duplicate
    closing because it was merged owes a 'merged' notice instead: "your report now follows
    request N", never a word that it was fixed.
    """
    sr = db.session.get(ServiceRequest, request_id)  # the closing verb has it loaded
    if sr is None:
        return
    merged_into = sr.parent_id if reason == "duplicate" else None
    payload: dict[str, Any] = {
        "request_id": request_id,
        "reason": reason,
        "note": note or "",
        "photo_id": photo_id,
        "work_order_id": work_order_id,
    }
    if merged_into is not None:
        payload["into"] = merged_into
    owe_everyone(
        "merged" if merged_into is not None else "closed", sr, payload, dedupe_key=str(event_id)
    )


def connect_signals(app: Flask) -> None:
    """Listen to this app's request signals (other apps in the process are left alone)."""
    signals.request_closed.connect(on_request_closed, sender=app)


def failed_rows(limit: int = 200) -> list[Outbox]:
    """Return the notices given up after their last attempt, newest first."""
    return list(
        db.session.scalars(
            select(Outbox)
            .where(Outbox.status == "failed")
            .order_by(Outbox.created_at.desc(), Outbox.id.desc())
            .limit(limit)
        )
    )


def resend(outbox_id: int) -> Outbox:
    """Give a failed notice a fresh set of attempts, starting now.

    :raises NotFound: there is no such notice.
    :raises Conflict: it has not failed (it is waiting, being sent, or was sent).
    """
    row = db.session.scalar(select(Outbox).where(Outbox.id == outbox_id).with_for_update())
    if row is None:
        raise NotFound(f"There is no outbox message {outbox_id}.")
    if row.status != "failed":
        raise Conflict(
            f"Outbox message {outbox_id} is {row.status}, not failed: nothing to resend."
        )
    row.status = "pending"
    row.attempts = 0
    row.next_attempt_at = utcnow()
    db.session.flush()
    tasks.notify_worker()
    return row

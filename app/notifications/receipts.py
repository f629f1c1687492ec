"""The reporter's receipt, written by the intake statement itself (a requests companion).

A receipt is owed with every request whose reporter chose to hear by email or by text, so
it is made in the same statement that stores the request: accepting a report stays one
round trip to PostgreSQL. Each row also sends a NOTIFY on the outbox channel, delivered at
commit, which wakes a worker (app/core/wakeups.py): nothing on the request thread talks to
Redis.
"""

from __future__ import annotations

from typing import Any

from app.notifications.service import SILENT_CHANNELS
from app.notifications.tasks import OUTBOX_CHANNEL
from app.requests.companions import Companion, Submission

_CTE = """
    INSERT INTO outbox (event, request_id, recipient, dedupe_key, channel, payload, status,
                        attempts, next_attempt_at)
    SELECT 'receipt', l.id, owed.recipient, '', owed.channel,
           jsonb_build_object('request_id', l.id, 'lang', l.receipt_lang),
           'pending', 0, now()
    FROM located l JOIN sr USING (id)
    CROSS JOIN LATERAL (VALUES (CAST(l.receipt_email AS varchar), 'email'),
                               (CAST(l.receipt_phone AS varchar), 'sms'))
               AS owed(recipient, channel)
    WHERE owed.recipient <> ''
    RETURNING id
"""


def _params(submission: Submission) -> dict[str, Any]:
    silent = submission.channel in SILENT_CHANNELS
    return {
        "receipt_email": "" if silent else submission.reporter_email,
        "receipt_phone": "" if silent else submission.reporter_phone,
        "receipt_lang": submission.language,
    }


def _owes(params: dict[str, Any]) -> bool:
    return bool(params["receipt_email"] or params["receipt_phone"])  # the CTE's WHERE


RECEIPT = Companion(
    name="receipt",
    cte=_CTE,
    columns="receipt_email text, receipt_phone text, receipt_lang text",
    params=_params,
    notify_channel=OUTBOX_CHANNEL,
    owes=_owes,
)

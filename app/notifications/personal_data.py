"""The addresses the notifications keep: outbox recipients, survey answers, unsubscribes.

The receivers below answer the personal-data signals of app/requests/privacy.py.

A message already sent keeps its row (what was sent, when: the delivery record) with the
address replaced by a placeholder unique to the row, so the once-only constraint still
holds. A message not yet sent is superseded: there is nobody left to send it to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Flask
from sqlalchemy import String, case, cast, delete, func, literal, select, update

from app.extensions import db
from app.notifications.models import Outbox, SatisfactionResponse, Unsubscribe
from app.requests import signals

#: what an erased recipient becomes, followed by the row id
ERASED = "erased-"


def _forget(outbox: Any, answers: Any, unsubscribes: Any) -> dict[str, int]:
    """Forget the outbox recipients, survey addresses and comments, and unsubscribes matched."""
    results = {
        "messages": db.session.execute(
            update(Outbox)
            .where(outbox, ~Outbox.recipient.startswith(ERASED))
            .values(
                recipient=literal(ERASED) + cast(Outbox.id, String),
                last_error="",
                status=case((Outbox.status == "sent", "sent"), else_="superseded"),
            )
            .execution_options(synchronize_session=False)
        ),
        "survey_answers": db.session.execute(
            update(SatisfactionResponse)
            .where(answers)
            .values(email="", comment="")
            .execution_options(synchronize_session=False)
        ),
        "unsubscribes": db.session.execute(delete(Unsubscribe).where(unsubscribes)),
    }
    return {key: int(getattr(result, "rowcount", 0) or 0) for key, result in results.items()}


def purge(sender: Flask, *, request_ids: Sequence[int], **_: Any) -> dict[str, int]:
    """Forget the addresses and survey comments held for these requests; return counts."""
    return _forget(
        Outbox.request_id.in_(request_ids),
        SatisfactionResponse.request_id.in_(request_ids),
        Unsubscribe.request_id.in_(request_ids),
    )


def _to(column: Any, email: str) -> Any:
    return func.lower(func.btrim(column)) == email.strip().lower()


def of_email(sender: Flask, *, email: str, **_: Any) -> dict[str, Any]:
    """Return the messages sent or owed to the address, its survey answers and unsubscribes."""
    messages = db.session.scalars(
        select(Outbox).where(_to(Outbox.recipient, email)).order_by(Outbox.id)
    )
    answers = db.session.scalars(
        select(SatisfactionResponse)
        .where(_to(SatisfactionResponse.email, email))
        .order_by(SatisfactionResponse.id)
    )
    unsubscribes = db.session.scalars(
        select(Unsubscribe).where(_to(Unsubscribe.email, email)).order_by(Unsubscribe.request_id)
    )
    return {
        "messages": [
            {
                "event": row.event,
                "request_id": row.request_id,
                "status": row.status,
                "created_at": row.created_at.isoformat(),
                "sent_at": row.sent_at.isoformat() if row.sent_at else None,
            }
            for row in messages
        ],
        "survey_answers": [
            {
                "request_id": row.request_id,
                "fixed": row.fixed,
                "rating": row.rating,
                "comment": row.comment,
                "at": row.updated_at.isoformat(),
            }
            for row in answers
        ],
        "unsubscribed_from": [row.request_id for row in unsubscribes],
    }


def erase_email(sender: Flask, *, email: str, **_: Any) -> dict[str, int]:
    """Forget the address everywhere the notifications hold it; return counts."""
    return _forget(
        _to(Outbox.recipient, email),
        _to(SatisfactionResponse.email, email),
        _to(Unsubscribe.email, email),
    )


def connect_signals(app: Flask) -> None:
    """Answer this app's personal-data signals."""
    signals.personal_data_purged.connect(purge, sender=app)
    signals.personal_data_requested.connect(of_email, sender=app)
    signals.personal_data_erased.connect(erase_email, sender=app)

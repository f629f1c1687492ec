"""Status updates the reporter and followers get between the receipt and the closure.

Each is one outbox row per person per history event (the event id is the dedupe key), so a
retried transaction or a repeated signal owes nothing new. Imported requests stay silent.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from app.extensions import db
from app.notifications.messages import STATUS_EVENTS
from app.notifications.service import SILENT_CHANNELS, owe_everyone
from app.requests import signals
from app.requests.models import RequestEvent, ServiceRequest


def _owe_update(event: str, sr: ServiceRequest, event_id: int, extra: dict[str, Any]) -> None:
    if sr.channel in SILENT_CHANNELS or sr.is_imported:
        return
    history = db.session.get(RequestEvent, event_id)
    note = history.note.strip() if history is not None and history.public else ""
    # the department as it was then: a transfer before delivery must not rewrite the past
    payload: dict[str, Any] = {
        "request_id": sr.id,
        "event_id": event_id,
        "note": note,
        "department": sr.department.name,
        **extra,
    }
    owe_everyone(event, sr, payload, dedupe_key=str(event_id))


def on_status_changed(
    sender: Flask, *, request_id: int, kind: str = "", event_id: int | None = None, **_: Any
) -> None:
    """Owe everyone the request tells a word on a move they care about."""
    event = STATUS_EVENTS.get(kind)
    if event is None or event_id is None:
        return
    sr = db.session.get(ServiceRequest, request_id)
    if sr is None:
        return
    extra = {"reason": sr.hold_reason or "other"} if event == "on_hold" else {}
    _owe_update(event, sr, event_id, extra)


def on_transferred(sender: Flask, *, request_id: int, event_id: int, **_: Any) -> None:
    """Owe a word that another department now handles the request, under the same number."""
    sr = db.session.get(ServiceRequest, request_id)
    if sr is None:
        return
    _owe_update("transferred", sr, event_id, {})


def connect_signals(app: Flask) -> None:
    """Listen to this app's status changes and transfers."""
    signals.request_status_changed.connect(on_status_changed, sender=app)
    signals.request_transferred.connect(on_transferred, sender=app)

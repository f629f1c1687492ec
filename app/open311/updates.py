"""FixMyStreet's service request updates: public status changes and notes in a time window."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from app.core.clock import utcnow
from app.extensions import db
from app.open311.formats import w3c_datetime
from app.open311.params import DEFAULT_WINDOW, MAX_REQUESTS
from app.open311.queries import EVENT_SUMMARIES, photo_url
from app.requests.models import RequestEvent

#: our statuses and closure reasons in FixMyStreet's lower-case extended statuses
FMS_STATUS = {
    "new": "open",
    "acknowledged": "open",
    "assigned": "action_scheduled",
    "in_progress": "in_progress",
    "on_hold": "investigating",
}
FMS_CLOSED = {
    "fixed": "fixed",
    "no_action_needed": "no_further_action",
    "duplicate": "duplicate",
    "referred": "not_councils_responsibility",
    "could_not_locate": "closed",
}


def request_updates(
    start: datetime | None, end: datetime | None, *, page: int = 1, page_size: int = MAX_REQUESTS
) -> list[dict[str, Any]]:
    """Return the public status changes and notes between two times, oldest first, by page.

    Page 1 has the oldest `page_size` updates of the window, page 2 the next, and so on: a
    poller reads pages until one comes back short, so no update of a busy window is lost.
    """
    if end is None:
        end = start + DEFAULT_WINDOW if start is not None else utcnow()
    if start is None:
        start = end - DEFAULT_WINDOW
    e = RequestEvent
    before = aliased(RequestEvent)
    # the request's status when the event happened: a note carries none of its own
    status_then = (
        select(before.to_status)
        .where(
            before.request_id == e.request_id,
            before.id <= e.id,
            before.to_status.is_not(None),
        )
        .order_by(before.id.desc())
        .limit(1)
        .correlate(e)
        .scalar_subquery()
    )
    # columns, not RequestEvent objects: a page is up to 1,000 rows, and the ORM would build
    # (and join each event's actor for) every one
    in_window = (
        select(
            e.id,
            e.request_id,
            e.kind,
            e.at,
            e.note,
            e.to_status,
            e.data,
            status_then.label("status_then"),
        )
        .where(
            e.at >= start,
            e.at <= end,
            e.public.is_(True),
            e.kind.not_in(("created", "routed")),
            or_(e.kind != "note", e.note != ""),
        )
        .order_by(e.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    rows = list(db.session.execute(in_window))
    updates = []
    for event in rows:
        status_then = event.status_then
        if event.kind == "closed":
            status = FMS_CLOSED.get(event.data.get("reason", ""), "closed")
        elif event.kind == "merged":
            status = "duplicate"
        elif event.kind == "reopened":
            status = "reopen"
        elif status_then == "closed":
            status = "closed"
        else:
            status = FMS_STATUS.get(status_then or "new", "open")
        photo_id = event.data.get("photo_id")
        updates.append(
            {
                "update_id": str(event.id),
                "service_request_id": str(event.request_id),
                "status": status,
                "updated_datetime": w3c_datetime(event.at),
                "description": event.note or EVENT_SUMMARIES.get(event.kind, event.kind) + ".",
                "media_url": photo_url(photo_id) if photo_id else "",
                "external_status_code": event.to_status or None,
            }
        )
    return updates

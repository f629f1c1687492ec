"""Builders shared by the work-order tests."""

from __future__ import annotations

import functools
import io
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.media.models import Photo
from app.notifications.models import Outbox
from app.requests.models import RequestEvent, ServiceRequest
from tests import factories
from tests.factories import jpeg_bytes
from tests.helpers import bearer

#: a phone number of its own, which the privacy checks look for on the pages
submit = functools.partial(factories.submit, phone="555-0100")


def make_overdue(sr: ServiceRequest, hours: int = 5) -> None:
    sr.due_at = sr.requested_at - timedelta(hours=hours)
    db.session.flush()


def fresh(sr: ServiceRequest) -> ServiceRequest:
    """Re-read a request as the app's last commit left it."""
    db.session.expire_all()
    return db.session.get(ServiceRequest, sr.id)


def event_kinds(sr: ServiceRequest) -> list[str]:
    return list(
        db.session.scalars(
            select(RequestEvent.kind)
            .where(RequestEvent.request_id == sr.id)
            .order_by(RequestEvent.id)
        )
    )


def events(sr: ServiceRequest, kind: str) -> list[RequestEvent]:
    return list(
        db.session.scalars(
            select(RequestEvent)
            .where(RequestEvent.request_id == sr.id, RequestEvent.kind == kind)
            .order_by(RequestEvent.id)
        )
    )


def order_photos(work_order_id: int) -> list[Photo]:
    return list(db.session.scalars(select(Photo).where(Photo.work_order_id == work_order_id)))


def photo_upload(data: bytes | None = None, name: str = "done.jpg") -> tuple[io.BytesIO, str]:
    return io.BytesIO(jpeg_bytes(gps=True) if data is None else data), name


def raw_photo_body(data: bytes, boundary: str = "B") -> tuple[bytes, str]:
    """Return a multipart body holding one `photo` file, and its content type.

    Built by hand because werkzeug's test encoder spools bodies over 500 KB to a temporary
    file that it never closes, which pytest reports as an unclosed file.
    """
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="big.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def dispatch_api(client, token: str, request_ids: list[int], crew_id: int, **extra):
    """POST /api/v1/workorders as the token's user."""
    return client.post(
        "/api/v1/workorders",
        json={"request_ids": request_ids, "crew_id": crew_id, **extra},
        headers=bearer(token),
    )


def complete_api(client, token: str, wo_id: int, *, key: str | None = None, **form):
    """POST /api/v1/workorders/<id>/complete as multipart, with an Idempotency-Key if given."""
    headers = bearer(token)
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(
        f"/api/v1/workorders/{wo_id}/complete",
        data={k: v for k, v in form.items() if v is not None},
        content_type="multipart/form-data",
        headers=headers,
    )


def closed_notices(request_id: int) -> list[Outbox]:
    """Return the closure notices owed for a request."""
    return list(
        db.session.scalars(
            select(Outbox).where(Outbox.request_id == request_id, Outbox.event == "closed")
        )
    )

"""Helpers for the notification tests: requests made and closed through the real services."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from io import BytesIO

import pytest
from flask import Flask
from sqlalchemy import select

from app.core.queue import QueueState
from app.extensions import db
from app.media import service as media
from app.notifications.models import Outbox
from app.requests import service as requests_service
from app.requests.models import ServiceRequest
from tests import factories
from tests.conftest import free_port, running_smtp
from tests.factories import jpeg_bytes
from tests.notifications import workers
from tests.notifications.workers import CountingMailbox

REPORTER = "resident@example.org"


#: Jane Resident's pothole report, whose receipt and notices these tests read
submit = functools.partial(
    factories.submit,
    description="Deep pothole in the bike lane",
    address="12 Elm Street",
    name="Jane Resident",
    email=REPORTER,
    phone="555-0100",
)


def close_with_photo(
    sr: ServiceRequest, note: str = "Filled with hot asphalt and rolled flat.", **kw
) -> int:
    """Close the request with an 'after' photo that carries GPS; return the photo id."""
    photo = media.attach_photo(
        media.validate_photo(BytesIO(jpeg_bytes(gps=True))), kind="after", request_id=sr.id
    )
    requests_service.close(
        sr, reason=kw.pop("reason", "fixed"), actor_id=None, note=note, photo_id=photo.id
    )
    return photo.id


def outbox_rows(request_id: int, event: str | None = None) -> list[Outbox]:
    stmt = select(Outbox).where(Outbox.request_id == request_id).order_by(Outbox.id)
    if event:
        stmt = stmt.where(Outbox.event == event)
    return list(db.session.scalars(stmt))


def parts(msg):
    """Return (text body, html body, attachments) of a received message."""
    text = html = None
    attachments = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        if part.get_filename():
            attachments.append(part)
        elif part.get_content_type() == "text/plain":
            text = part.get_payload(decode=True).decode(part.get_content_charset())
        elif part.get_content_type() == "text/html":
            html = part.get_payload(decode=True).decode(part.get_content_charset())
    return text, html, attachments


@pytest.fixture(scope="module")
def worker_smtp() -> Iterator[tuple[int, CountingMailbox]]:
    """A slow loopback SMTP server for a module whose real worker process sends to it."""
    mailbox = CountingMailbox(0.1)
    with running_smtp(mailbox) as port:
        yield port, mailbox


@pytest.fixture(scope="module")
def worker_app(request, worker_smtp, tmp_path_factory) -> Iterator[Flask]:
    """An app on a database of the module's own (its WORKER_DB), queues under WORKER_PREFIX."""
    name, prefix = request.module.WORKER_DB, request.module.WORKER_PREFIX
    media = tmp_path_factory.mktemp(f"{prefix}-media")
    with workers.committed_app(name, prefix, worker_smtp[0], media) as app:
        yield app


def queued_drains() -> int:
    """Count the outbox drain jobs waiting in the real Redis queue."""
    from app.core.queue import get_queue

    queue = get_queue("notifications")
    return sum(1 for job in queue.jobs if job.func_name == "app.notifications.tasks.drain")


@pytest.fixture
def redis_down(app):
    """Point the app's queues at a port where no Redis listens; restore them afterwards."""
    dead = Flask("redis-down")
    dead.config.update(
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
        RQ_QUEUE_PREFIX=app.config["RQ_QUEUE_PREFIX"],
    )
    real = app.extensions["rq"]
    app.extensions["rq"] = QueueState(dead)
    try:
        yield real
    finally:
        app.extensions["rq"] = real

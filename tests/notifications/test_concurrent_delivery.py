"""Two workers draining the outbox at once send each owed message exactly once.

Each worker is a thread with an app context, a session and a database connection of its
own, on a database of this module's own: the rows must be committed for both to see them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.notifications import tasks
from app.notifications.models import Outbox
from tests import factories
from tests.conftest import TEST_DB, SlowMailbox, db_url, recreate_database, running_smtp
from tests.notifications.conftest import submit

OUTBOX_DB = f"{TEST_DB}_outbox"
OWED = 30


@pytest.fixture(scope="module")
def slow_smtp() -> Iterator[tuple[int, SlowMailbox]]:
    mailbox = SlowMailbox(0.02)  # the two drains overlap
    with running_smtp(mailbox) as port:
        yield port, mailbox


@pytest.fixture(scope="module")
def committed_app(slow_smtp, tmp_path_factory) -> Iterator[Flask]:
    recreate_database(OUTBOX_DB)
    app = create_app(
        "test",
        {
            "SQLALCHEMY_DATABASE_URI": db_url(OUTBOX_DB),
            "MEDIA_ROOT": str(tmp_path_factory.mktemp("outbox-media")),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": slow_smtp[0],
        },
    )
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield app
    with app.app_context():
        db.engine.dispose()
    app.extensions["rq"].redis.close()


def _drain_in_its_own_worker(app: Flask, start: threading.Barrier, sent: list[int]) -> None:
    with app.app_context():
        try:
            start.wait()
            sent.append(tasks.drain())
        finally:
            db.session.remove()


def test_two_drains_at_once_send_each_owed_message_once(committed_app, slow_smtp):
    mailbox = slow_smtp[1]
    with committed_app.app_context():
        factories.make_city()
        db.session.commit()
        for n in range(OWED):
            submit(email=f"resident{n}@example.org")
            db.session.commit()
        owed = set(db.session.scalars(select(Outbox.id).where(Outbox.status == "pending")))
        db.session.remove()
    assert len(owed) == OWED

    start = threading.Barrier(2)
    sent: list[int] = []
    workers = [
        threading.Thread(target=_drain_in_its_own_worker, args=(committed_app, start, sent))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert len(sent) == 2 and sum(sent) == OWED
    assert min(sent) > 0, f"the drains did not overlap: {sent}"  # both did take a share
    received = [int(msg["X-City311-Outbox"]) for msg in mailbox.wait_for(OWED)]
    assert sorted(received) == sorted(owed)  # every one, none twice
    with committed_app.app_context():
        rows = db.session.execute(select(Outbox.status, Outbox.attempts)).all()
        db.session.remove()
    assert set(rows) == {("sent", 1)}

"""Requests that arrive while a process's intake statement runs are stored by one statement.

Real threads of one process post to a committed database of this module's own. To make the
arrivals overlap for certain, another connection holds a lock that keeps the first intake
statement waiting while the others queue behind it; then it lets go.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import event, select

from app.core.errors import OutsideJurisdiction
from app.extensions import db
from app.notifications.models import Outbox
from app.requests import intake_batch, service
from app.requests.models import ServiceRequest
from tests.conftest import TEST_DB, free_port
from tests.factories import WARD_1_POINT, WARD_2_POINT, new_request
from tests.notifications import workers
from tests.notifications.workers import wait_until

BATCH_DB = f"{TEST_DB}_intake_batch"
INTAKE = "WITH input AS MATERIALIZED ("


@pytest.fixture(scope="module")
def batch_app(tmp_path_factory) -> Iterator[Flask]:
    media = tmp_path_factory.mktemp("intake-batch-media")
    with workers.committed_app(BATCH_DB, "city311-intake-batch", free_port(), media) as app:
        yield app


def dsn(app: Flask) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"].replace("+psycopg", "")


class Posting(threading.Thread):
    """One web thread's POST: submit_request, autocommitted, in a request context of its own."""

    def __init__(self, app: Flask, description: str, point: tuple[float, float]) -> None:
        super().__init__(daemon=True)
        self.app, self.description, self.point = app, description, point
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        with self.app.test_request_context("/"):
            try:
                self.result = service.submit_request(
                    new_request(
                        description=self.description,
                        point=self.point,
                        email=f"{self.description.replace(' ', '.')}@example.org",
                    ),
                    channel="open311",
                    alone=True,
                )
            except BaseException as exc:  # noqa: BLE001 (the test reads it)
                self.error = exc
            finally:
                db.session.remove()


def waiting(app: Flask) -> int:
    with app.app_context():
        queue = intake_batch._queue(db.engine)
        with queue.lock:
            return len(queue.waiting)


def held_back(app: Flask, first: Posting, others: list[Posting]) -> None:
    """Start `first`, hold its statement on a lock, queue `others` behind it, then let go."""
    warm = Posting(app, "warm-up", WARD_1_POINT)  # the catalogue cached: no read before intake
    warm.start()
    warm.join(10)
    with psycopg.connect(dsn(app)) as lock:
        lock.execute("LOCK TABLE service_requests IN SHARE MODE")  # inserts wait
        first.start()
        with psycopg.connect(dsn(app), autocommit=True) as watch:
            assert wait_until(
                lambda: (
                    watch.execute(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE wait_event_type = 'Lock' AND query LIKE %s",
                        (f"%{INTAKE}%",),
                    ).fetchone()[0]
                    == 1
                ),
                10,
            ), "the first statement waits on the lock"
        for posting in others:
            posting.start()
        assert wait_until(lambda: waiting(app) == len(others), 10), "the others queue"
        lock.rollback()  # let go
    for posting in [first, *others]:
        posting.join(20)
        assert not posting.is_alive()


def counted(app: Flask) -> tuple[list[int], Callable[[], None]]:
    """Count the rows of each intake statement; return the counts and a function to stop."""
    sizes: list[int] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().startswith(INTAKE):
            sizes.append(parameters["rows"].count('"ord":'))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    return sizes, lambda: event.remove(engine, "before_cursor_execute", record)


def stored(app: Flask, request_id: int) -> tuple[str, int]:
    """Return the description and the district of a stored request, and its receipts."""
    with app.app_context():
        try:
            sr = db.session.get(ServiceRequest, request_id)
            assert sr is not None
            receipts = db.session.scalars(
                select(Outbox.recipient).where(Outbox.request_id == request_id)
            ).all()
            return sr.description, len(receipts)
        finally:
            db.session.remove()


def test_requests_that_arrive_together_are_stored_by_one_statement(batch_app):
    sizes, stop = counted(batch_app)
    first = Posting(batch_app, "first pothole", WARD_1_POINT)
    others = [
        Posting(batch_app, f"queued pothole {n}", WARD_2_POINT if n % 2 else WARD_1_POINT)
        for n in range(5)
    ]
    try:
        held_back(batch_app, first, others)
    finally:
        stop()
    assert sizes == [1, 1, 5], "the warm-up, the first alone, then the five queued together"
    for posting in [first, *others]:
        assert posting.error is None, posting.error
        result = posting.result
        # each thread got its own request's answer, receipt owed and all
        assert stored(batch_app, result.id) == (posting.description, 1)
        ward = "2" if posting.point == WARD_2_POINT else "1"
        assert result.district_code.endswith(ward), (result.district_code, posting.point)
    assert len({p.result.id for p in [first, *others]}) == 6


def test_a_request_outside_the_city_is_refused_alone_in_its_batch(batch_app):
    first = Posting(batch_app, "first pothole", WARD_1_POINT)
    inside = [Posting(batch_app, f"inside {n}", WARD_1_POINT) for n in range(2)]
    outside = Posting(batch_app, "at sea", (0.0, 0.0))
    held_back(batch_app, first, [inside[0], outside, inside[1]])
    assert isinstance(outside.error, OutsideJurisdiction)
    for posting in [first, *inside]:
        assert posting.error is None, posting.error
        assert stored(batch_app, posting.result.id)[0] == posting.description


def test_a_request_postgresql_refuses_fails_only_itself(batch_app):
    """The shared statement fails: nothing of it is stored, and each is stored alone again."""
    with psycopg.connect(dsn(batch_app), autocommit=True) as conn:
        conn.execute("""
            CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.description = 'boom' THEN RAISE EXCEPTION 'boom refused'; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_boom BEFORE INSERT ON service_requests
            FOR EACH ROW EXECUTE FUNCTION refuse_boom();
        """)
    sizes, stop = counted(batch_app)
    try:
        first = Posting(batch_app, "first pothole", WARD_1_POINT)
        good = [Posting(batch_app, f"good {n}", WARD_1_POINT) for n in range(2)]
        boom = Posting(batch_app, "boom", WARD_1_POINT)
        held_back(batch_app, first, [good[0], boom, good[1]])
    finally:
        stop()
        with psycopg.connect(dsn(batch_app), autocommit=True) as conn:
            conn.execute("DROP TRIGGER refuse_boom ON service_requests")
            conn.execute("DROP FUNCTION refuse_boom()")
    assert sizes == [1, 1, 3, 1, 1, 1], "then each of the three alone again"
    assert boom.error is not None and "boom refused" in str(boom.error)
    for posting in [first, *good]:
        assert posting.error is None, posting.error
        assert stored(batch_app, posting.result.id) == (posting.description, 1)
    with batch_app.app_context():
        assert not db.session.scalars(
            select(ServiceRequest.id).where(ServiceRequest.description == "boom")
        ).all()
        db.session.remove()


def test_a_lone_request_does_not_wait(batch_app):
    sizes, stop = counted(batch_app)
    try:
        started = time.monotonic()
        posting = Posting(batch_app, "lone pothole", WARD_1_POINT)
        posting.start()
        posting.join(10)
    finally:
        stop()
    assert posting.error is None and sizes == [1]
    assert time.monotonic() - started < 5
    assert waiting(batch_app) == 0

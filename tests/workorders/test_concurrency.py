"""Races between dispatchers, phones and merges, each on its own database connection.

Every party is a thread with its own app context, session and connection, on a database of
this module's own whose rows are committed. To make the race certain rather than likely, a
third connection first locks the contested row; the parties are started one by one, and
the lock is let go only once PostgreSQL shows each of them waiting for it, in that order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask_migrate import upgrade
from psycopg.conninfo import make_conninfo

from app import create_app
from app.auth import service as auth_service
from app.auth.models import User
from app.core.errors import DomainError
from app.extensions import db
from app.notifications import tasks
from app.requests import service as requests_service
from app.requests.models import ServiceRequest
from app.workorders import service
from app.workorders.models import WorkOrder
from tests import factories
from tests.conftest import ADMIN_DSN, TEST_DB, db_url, recreate_database
from tests.helpers import bearer
from tests.workorders.helpers import photo_upload

RACE_DB = f"{TEST_DB}_races"


@dataclass
class Stack:
    app: Flask
    tokens: dict[str, str]
    users: dict[str, int]
    crew_a: int


@pytest.fixture(scope="module")
def stack(smtp_server, tmp_path_factory) -> Iterator[Stack]:
    recreate_database(RACE_DB)
    app = create_app(
        "test",
        {
            "SQLALCHEMY_DATABASE_URI": db_url(RACE_DB),
            "MEDIA_ROOT": str(tmp_path_factory.mktemp("race-media")),
            "MAIL_OUTBOX_DIR": str(tmp_path_factory.mktemp("race-mail")),
            "SMTP_HOST": smtp_server[0],
            "SMTP_PORT": smtp_server[1],
        },
    )
    with app.app_context():
        upgrade()
        city = factories.make_city()
        city.users["dispatcher_2"] = factories.make_user(
            "dispatcher.2@city.test", "dispatcher", department_id=city.public_works.id
        )
        tokens = {role: auth_service.issue_token(user) for role, user in city.users.items()}
        users = {role: user.id for role, user in city.users.items()}
        crew_a = city.crew_a.id
        db.session.commit()
        db.session.remove()
    yield Stack(app, tokens, users, crew_a)
    with app.app_context():
        db.engine.dispose()
    app.extensions["rq"].redis.close()


class Party(threading.Thread):
    """One client of the app, on a connection of its own; keeps what it got back."""

    def __init__(self, app: Flask, act: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.app, self.act = app, act
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.act()
        except BaseException as exc:  # handed to the test, which fails with it
            self.error = exc

    def outcome(self) -> Any:
        self.join(timeout=30)
        assert not self.is_alive(), "a party is still waiting: a lock was never let go"
        if self.error:
            raise self.error
        return self.result


def waiting() -> int:
    """Count the sessions of the race database that wait for a lock."""
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            (RACE_DB,),
        ).fetchone()
    return row[0] if row else 0


def start_waiting(party: Party, expected: int) -> Party:
    """Start a party and return once `expected` sessions in all are waiting for locks."""
    party.start()
    deadline = time.monotonic() + 15
    while waiting() < expected:
        if not party.is_alive():
            pytest.fail(f"the party did not wait: {party.result!r} {party.error!r}")
        assert time.monotonic() < deadline, "the party never reached the lock"
        time.sleep(0.02)
    return party


@contextmanager
def holding(table: str, row_id: int) -> Iterator[None]:
    """Hold a row lock on another connection until the block ends."""
    with psycopg.connect(make_conninfo(ADMIN_DSN, dbname=RACE_DB)) as conn:
        conn.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", (row_id,))
        yield
        conn.commit()


def http(stack: Stack, role: str, path: str, key: str | None = None, **kw: Any) -> Callable:
    """Return an action that POSTs to the app as `role`; it answers (status, JSON body)."""
    headers = bearer(stack.tokens[role]) | ({"Idempotency-Key": key} if key else {})

    def act() -> tuple[int, Any]:
        resp = stack.app.test_client().post(path, headers=headers, **kw)
        return resp.status_code, resp.get_json()

    return act


def complete(stack: Stack, wo_id: int, key: str | None = None, note: str = "Filled.") -> Callable:
    return http(
        stack,
        "crew",
        f"/api/v1/workorders/{wo_id}/complete",
        key=key,
        data={"note": note, "photo": photo_upload()},
        content_type="multipart/form-data",
    )


def merge(stack: Stack, child_id: int, parent_id: int) -> Callable:
    """Return an action that closes `child_id` as a duplicate of `parent_id`, as merge does."""

    def act() -> str | DomainError:
        with stack.app.app_context():
            try:
                sr = requests_service.get_request(child_id, for_update=True)
                requests_service.close(
                    sr,
                    reason="duplicate",
                    actor_id=stack.users["dispatcher"],
                    note=f"Same problem as {parent_id}.",
                )
                sr.parent_id = parent_id
                db.session.commit()
                return "merged"
            except DomainError as err:
                db.session.rollback()
                return err
            finally:
                db.session.remove()

    return act


def setup(stack: Stack, build: Callable[[], Any]) -> Any:
    """Run `build` in a session of its own and commit what it made."""
    with stack.app.app_context():
        try:
            made = build()
            db.session.commit()
            return made
        finally:
            db.session.remove()


def reported(email: str, **kw: Any) -> int:
    return factories.submit(email=email, **kw).id


def dispatched(stack: Stack, *request_ids: int) -> int:
    actor = db.session.get_one(User, stack.users["dispatcher"])
    return service.create_work_order(list(request_ids), stack.crew_a, actor=actor).id


def fixed_mail(stack: Stack, mailbox) -> list[str]:
    """Deliver what is owed; return the recipients of the "is fixed" emails sent."""
    with stack.app.app_context():
        try:
            tasks.drain()
        finally:
            db.session.remove()
    mailbox.wait_for(1, timeout=2)
    time.sleep(0.2)  # anything sent twice would arrive now
    return sorted(m["To"] for m in mailbox.messages if "is fixed" in m["Subject"])


def read(stack: Stack, model: type, row_id: int) -> Any:
    with stack.app.app_context():
        try:
            row = db.session.get(model, row_id)
            db.session.expunge(row)
            return row
        finally:
            db.session.remove()


def test_two_dispatchers_sending_crews_to_one_request_make_one_order(stack):
    request_id = setup(stack, lambda: reported("one@example.org"))
    body = {"json": {"request_ids": [request_id], "crew_id": stack.crew_a}}
    with holding("service_requests", request_id):
        first = start_waiting(
            Party(stack.app, http(stack, "dispatcher", "/api/v1/workorders", **body)), 1
        )
        second = start_waiting(
            Party(stack.app, http(stack, "dispatcher_2", "/api/v1/workorders", **body)), 2
        )
    (status_1, made), (status_2, refused) = first.outcome(), second.outcome()
    assert (status_1, status_2) == (201, 409), (made, refused)
    assert refused["message"] == (
        f"Request {request_id} is already on open work order #{made['id']}."
    )
    assert refused["work_order_ids"] == [made["id"]]
    with stack.app.app_context():
        orders = db.session.scalars(
            db.select(WorkOrder.id).join(WorkOrder.requests).where(ServiceRequest.id == request_id)
        ).all()
        db.session.remove()
    assert orders == [made["id"]]


def test_two_phones_completing_one_order_close_it_once_and_send_one_email(stack, mailbox):
    request_id, wo_id = setup(
        stack, lambda: (rid := reported("two.phones@example.org"), dispatched(stack, rid))
    )
    with holding("work_orders", wo_id):
        first = start_waiting(Party(stack.app, complete(stack, wo_id, key="phone-a")), 1)
        second = start_waiting(Party(stack.app, complete(stack, wo_id, key="phone-b")), 2)
    (status_1, done), (status_2, refused) = first.outcome(), second.outcome()
    assert (status_1, status_2) == (200, 409), (done, refused)
    assert done["status"] == "completed" and len(done["photos"]["after"]) == 1
    assert refused["message"] == f"Work order {wo_id} is already completed."
    assert read(stack, ServiceRequest, request_id).status == "closed"
    assert fixed_mail(stack, mailbox) == ["two.phones@example.org"]


def test_the_same_key_twice_at_once_gets_one_completion_and_the_same_answer(stack, mailbox):
    request_id, wo_id = setup(
        stack, lambda: (rid := reported("same.key@example.org"), dispatched(stack, rid))
    )
    with holding("work_orders", wo_id):
        # the first claims the key, then waits for the order; the second waits for the key
        first = start_waiting(Party(stack.app, complete(stack, wo_id, key="retry-1")), 1)
        second = start_waiting(
            Party(stack.app, complete(stack, wo_id, key="retry-1", note="Sent again")), 2
        )
    assert first.outcome() == second.outcome()
    status, body = first.outcome()
    assert status == 200 and body["completion_note"] == "Filled."
    assert len(body["photos"]["after"]) == 1
    with stack.app.app_context():
        closings = db.session.scalar(
            db.text(
                "SELECT count(*) FROM request_events WHERE request_id = :id AND kind = 'closed'"
            ),
            {"id": request_id},
        )
        db.session.remove()
    assert closings == 1
    assert fixed_mail(stack, mailbox) == ["same.key@example.org"]


def test_a_merge_that_lands_first_has_the_crew_close_the_original(stack, mailbox):
    original, duplicate, wo_id = setup(
        stack,
        lambda: (
            orig := reported("original@example.org", address="1 First St"),
            dup := reported("duplicate@example.org"),
            dispatched(stack, dup),
        ),
    )
    with holding("service_requests", duplicate):
        merging = start_waiting(Party(stack.app, merge(stack, duplicate, original)), 1)
        crew = start_waiting(Party(stack.app, complete(stack, wo_id)), 2)
    assert merging.outcome() == "merged"
    status, body = crew.outcome()
    assert status == 200, body
    (outcome,) = body["outcomes"]
    assert outcome["outcome"] == "parent_closed"
    assert (outcome["parent_id"], outcome["closed_request_id"]) == (original, original)
    parent = read(stack, ServiceRequest, original)
    assert (parent.status, parent.closure_reason, parent.closure_note) == (
        "closed",
        "fixed",
        "Filled.",
    )
    assert read(stack, ServiceRequest, duplicate).closure_reason == "duplicate"
    # the original's reporter gets the crew's photo; the duplicate's was told of the merge
    assert fixed_mail(stack, mailbox) == ["original@example.org"]
    (sent,) = [m for m in mailbox.messages if "is fixed" in m["Subject"]]
    assert [p.get_content_type() for p in sent.iter_attachments()] == ["image/jpeg"]
    assert any(
        m["To"] == "duplicate@example.org" and "duplicate" in m["Subject"] for m in mailbox.messages
    )


def test_a_merge_that_comes_second_is_told_the_request_is_closed(stack, mailbox):
    original, duplicate, wo_id = setup(
        stack,
        lambda: (
            reported("original.2@example.org"),
            dup := reported("duplicate.2@example.org"),
            dispatched(stack, dup),
        ),
    )
    with holding("service_requests", duplicate):
        crew = start_waiting(Party(stack.app, complete(stack, wo_id)), 1)
        merging = start_waiting(Party(stack.app, merge(stack, duplicate, original)), 2)
    status, body = crew.outcome()
    assert status == 200 and body["outcomes"][0]["outcome"] == "closed", body
    refused = merging.outcome()
    assert isinstance(refused, DomainError) and refused.status_code == 409
    assert refused.message == f"Request {duplicate} is already closed."
    dup = read(stack, ServiceRequest, duplicate)
    assert (dup.closure_reason, dup.parent_id) == ("fixed", None)
    assert read(stack, ServiceRequest, original).status == "new"
    assert fixed_mail(stack, mailbox) == ["duplicate.2@example.org"]

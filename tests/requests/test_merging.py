"""Merging a duplicate: it closes, links, and hands its reporter and subscribers to the original."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select

from app import create_app
from app.core.errors import Conflict
from app.extensions import db
from app.notifications.models import Outbox
from app.requests import lifecycle, merging, subscribers
from app.requests.models import RequestEvent, RequestSubscriber, ServiceRequest
from tests import factories
from tests.conftest import ADMIN_DSN, TEST_DB, db_url, recreate_database
from tests.factories import WARD_1_POINT, submit

#: about 22 m north of WARD_1_POINT
NEAR = (WARD_1_POINT[0] + 0.0002, WARD_1_POINT[1])


def kinds(sr: ServiceRequest) -> list[str]:
    return list(
        db.session.scalars(
            select(RequestEvent.kind)
            .where(RequestEvent.request_id == sr.id)
            .order_by(RequestEvent.id)
        )
    )


def subscriptions(sr: ServiceRequest) -> list[tuple[str, str, int | None]]:
    rows = db.session.execute(
        select(RequestSubscriber.email, RequestSubscriber.source, RequestSubscriber.from_request_id)
        .where(RequestSubscriber.request_id == sr.id)
        .order_by(RequestSubscriber.id)
    )
    return [tuple(r) for r in rows]


def notices(sr: ServiceRequest) -> list[tuple[str, str, dict]]:
    rows = db.session.scalars(
        select(Outbox)
        .where(Outbox.request_id == sr.id, Outbox.event != "receipt")
        .order_by(Outbox.id)
    )
    return [(r.event, r.recipient, r.payload) for r in rows]


def test_a_merge_closes_links_records_and_subscribes(city):
    original = submit(email="first@example.org")
    dup = submit(point=NEAR, email="second@example.org")
    agent = city.users["agent"]

    merged = merging.merge(dup.id, original.id, actor_id=agent.id, note="Same hole, same corner")

    assert (merged.request, merged.into, merged.subscribed) == (dup, original, 1)
    assert (dup.status, dup.closure_reason, dup.parent_id) == ("closed", "duplicate", original.id)
    assert dup.closure_note == f"Merged into request {original.id}: Same hole, same corner"
    assert original.is_open and original.parent_id is None
    assert kinds(dup) == ["created", "merged", "closed"]
    assert kinds(original) == ["created", "merged"]
    [into_event] = db.session.scalars(
        select(RequestEvent).where(
            RequestEvent.request_id == original.id, RequestEvent.kind == "merged"
        )
    ).all()
    assert (into_event.actor_id, into_event.data) == (agent.id, {"from": dup.id, "subscribed": 1})
    assert subscriptions(original) == [("second@example.org", "duplicate", dup.id)]
    assert [r.email for r in subscribers.recipients(original)] == [
        "first@example.org",
        "second@example.org",
    ]
    # the duplicate's reporter hears of the merge, not of a fix; the original owes nothing yet
    assert [(e, to, p.get("into")) for e, to, p in notices(dup)] == [
        ("merged", "second@example.org", original.id)
    ]
    assert notices(original) == []


def test_a_chain_of_merges_brings_every_reporter_to_the_root(city):
    root = submit(email="root@example.org")
    middle = submit(point=NEAR, email="middle@example.org")
    leaf = submit(point=NEAR, email="leaf@example.org")
    same_person = submit(point=NEAR, email="Root@Example.org")
    merging.merge(leaf.id, middle.id, actor_id=None)
    merging.merge(same_person.id, middle.id, actor_id=None)

    merged = merging.merge(middle.id, root.id, actor_id=None)

    # the leaf's reporter keeps the number they know; root's own reporter is not added twice
    assert merged.subscribed == 2
    assert subscriptions(root) == [
        ("middle@example.org", "duplicate", middle.id),
        ("leaf@example.org", "duplicate", leaf.id),
    ]
    assert subscribers.root_of(leaf.id) == root.id
    assert subscribers.children(middle.id) == [leaf.id, same_person.id]
    # the middle's people are told their report now follows the root, each in their own number
    told = {to: p.get("own_request_id") for e, to, p in notices(middle) if e == "merged"}
    assert told == {
        "middle@example.org": None,
        "leaf@example.org": leaf.id,
        "root@example.org": same_person.id,
    }


def test_requests_of_different_types_may_be_merged(city):
    pothole = submit()
    other = submit("streetlight", email="light@example.org")
    merging.merge(other.id, pothole.id, actor_id=None)
    assert other.parent_id == pothole.id


@pytest.mark.parametrize("status", ["assigned", "in_progress", "on_hold"])
def test_a_request_a_crew_is_on_is_not_merged_away(city, status):
    busy = submit()
    other = submit(point=NEAR, email="other@example.org")
    lifecycle.mark_assigned(busy, actor_id=None, work_order_id=1, crew_name="Pothole crew A")
    if status != "assigned":
        lifecycle.mark_in_progress(busy, actor_id=None, work_order_id=1)
    if status == "on_hold":
        lifecycle.put_on_hold(busy, actor_id=None, reason="materials")

    with pytest.raises(Conflict, match=f"A crew is on request {busy.id}") as refused:
        merging.merge(busy.id, other.id, actor_id=None)
    assert f"merge request {other.id} into it instead" in refused.value.message
    assert busy.status == status and busy.parent_id is None
    # the other way round is the right merge
    merging.merge(other.id, busy.id, actor_id=None)
    assert other.parent_id == busy.id


def test_a_hold_while_acknowledged_does_not_block_a_merge(city):
    sr = submit()
    other = submit(point=NEAR, email="other@example.org")
    lifecycle.put_on_hold(sr, actor_id=None, reason="weather")
    merging.merge(sr.id, other.id, actor_id=None)
    assert sr.status == "closed" and sr.held_since is None


def test_reopening_a_merged_request_unmerges_it(city):
    root = submit(email="root@example.org")
    middle = submit(point=NEAR, email="middle@example.org")
    leaf = submit(point=NEAR, email="leaf@example.org")
    merging.merge(leaf.id, middle.id, actor_id=None)
    merging.merge(middle.id, root.id, actor_id=None)

    event = lifecycle.reopen(middle, actor_id=None, note="Not the same hole after all")

    assert middle.parent_id is None and middle.is_open
    assert event.data == {"previous_reason": "duplicate", "unmerged_from": root.id}
    # the middle's reporter and the leaf's come back to the middle, which tracks their hole
    assert subscriptions(root) == []
    assert subscriptions(middle) == [("leaf@example.org", "duplicate", leaf.id)]
    assert leaf.parent_id == middle.id


# ---------------------------------------------------------------------------------------------
# two merges of one pair at once, on two real connections

MERGE_DB = f"{TEST_DB}_merge"


@pytest.fixture(scope="module")
def committed_app(tmp_path_factory) -> Iterator[Flask]:
    recreate_database(MERGE_DB)
    app = create_app(
        "test",
        {
            "SQLALCHEMY_DATABASE_URI": db_url(MERGE_DB),
            "MEDIA_ROOT": str(tmp_path_factory.mktemp("merge-media")),
        },
    )
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield app
    with app.app_context():
        db.engine.dispose()
    app.extensions["rq"].redis.close()


def _waiting_on_a_lock() -> int:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            (MERGE_DB,),
        ).fetchone()
    return row[0] if row else 0


def test_two_opposite_merges_at_once_end_with_one_merge(committed_app):
    with committed_app.app_context():
        factories.make_city()
        a = submit(email="a@example.org").id
        b = submit(point=NEAR, email="b@example.org").id
        db.session.commit()
        db.session.remove()

    outcome: dict[str, str] = {}
    first_holds_locks = threading.Event()
    let_first_commit = threading.Event()

    def merge(name: str, source: int, into: int, hold: bool) -> None:
        with committed_app.app_context():
            try:
                merging.merge(source, into, actor_id=None)
                if hold:
                    first_holds_locks.set()
                    let_first_commit.wait(10)
                db.session.commit()
                outcome[name] = "merged"
            except Conflict as err:
                db.session.rollback()
                outcome[name] = err.message
            finally:
                db.session.remove()

    first = threading.Thread(target=merge, args=("b into a", b, a, True))
    second = threading.Thread(target=merge, args=("a into b", a, b, False))
    first.start()
    assert first_holds_locks.wait(10)
    second.start()
    deadline = time.monotonic() + 10
    while _waiting_on_a_lock() < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _waiting_on_a_lock() == 1, "the second merge did not wait for the first one's locks"
    let_first_commit.set()
    first.join(10)
    second.join(10)

    assert outcome["b into a"] == "merged"
    # the second one waited, then saw the first one's merge
    assert outcome["a into b"] == f"Request {b} was already merged into request {a}: they are one."
    with committed_app.app_context():
        rows = {
            sr.id: (sr.status, sr.parent_id)
            for sr in db.session.scalars(
                select(ServiceRequest).where(ServiceRequest.id.in_([a, b]))
            )
        }
        merged_events = db.session.scalar(
            select(db.func.count()).select_from(RequestEvent).where(RequestEvent.kind == "merged")
        )
        db.session.remove()
    assert rows == {a: ("new", None), b: ("closed", a)}
    assert merged_events == 2  # one on each side of the one merge

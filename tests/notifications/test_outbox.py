"""The outbox row is written in the transaction of the change that owes it."""

from __future__ import annotations

from sqlalchemy import select

from app.core.queue import get_queue
from app.extensions import db
from app.notifications import service, tasks
from app.notifications.models import Outbox
from app.requests import service as requests_service
from tests.notifications.conftest import (
    REPORTER,
    close_with_photo,
    outbox_rows,
    queued_drains,
    submit,
)


def test_intake_writes_a_receipt_row_and_leaves_redis_alone(city):
    sr = submit()
    [row] = outbox_rows(sr.id)
    assert (row.event, row.recipient, row.status, row.attempts) == (
        "receipt",
        REPORTER,
        "pending",
        0,
    )
    assert row.payload == {"request_id": sr.id, "lang": "en"}
    db.session.commit()
    # the row's NOTIFY wakes a worker when the transaction commits (tests/e2e/test_wakeup.py);
    # the web process never talks to Redis about it
    assert get_queue("notifications").count == 0


def outbox_rows_all() -> list[Outbox]:
    return list(db.session.scalars(select(Outbox)))


def test_a_burst_of_wake_ups_queues_one_drain(city):
    for _ in range(5):
        submit()
        db.session.commit()
        tasks.wake()  # what the worker's listener does on each notification
    assert len(outbox_rows_all()) == 5
    assert queued_drains() == 1


def test_closing_writes_one_closed_row_in_the_same_transaction(city):
    sr = submit()
    db.session.commit()
    photo_id = close_with_photo(sr, note="Patched")
    [row] = outbox_rows(sr.id, "closed")
    assert row.recipient == REPORTER
    assert row.payload == {
        "request_id": sr.id,
        "lang": "en",
        "reason": "fixed",
        "note": "Patched",
        "photo_id": photo_id,
        "work_order_id": None,
    }
    request_id = sr.id
    db.session.rollback()
    # the closure did not happen, so nothing is owed and nothing was enqueued
    assert outbox_rows(request_id, "closed") == []
    db.session.commit()
    assert get_queue("notifications").count == 0


def test_a_request_without_email_gets_no_outbox_row(city):
    sr = submit(email="")
    db.session.commit()
    close_with_photo(sr)
    db.session.commit()
    assert outbox_rows(sr.id) == []
    assert get_queue("notifications").count == 0


def test_imported_requests_do_not_email_a_receipt(city):
    sr = submit(channel="import")
    assert outbox_rows(sr.id) == []


def test_the_same_notice_is_owed_only_once(city):
    sr = submit()
    first = outbox_rows(sr.id, "receipt")[0].id
    assert service.queue_notice("receipt", sr.id, REPORTER, {"request_id": sr.id}) is None
    assert [r.id for r in outbox_rows(sr.id, "receipt")] == [first]


def test_a_request_fixed_again_after_reopening_owes_a_new_closure_notice(city):
    sr = submit()
    requests_service.close(sr, reason="fixed", actor_id=None, note="Patched")
    requests_service.reopen(sr, actor_id=None, note="Resident says it is still there")
    requests_service.close(sr, reason="fixed", actor_id=None, note="Resurfaced properly")
    rows = db.session.scalars(
        select(Outbox)
        .where(Outbox.request_id == sr.id, Outbox.event == "closed")
        .order_by(Outbox.id)
    ).all()
    assert [r.payload["note"] for r in rows] == ["Patched", "Resurfaced properly"]

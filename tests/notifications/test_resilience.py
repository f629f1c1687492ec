"""Nothing owed is lost: SMTP or Redis being down only delays the mail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from rq.job import Job

from app.core import worker as core_worker
from app.core.clock import utcnow
from app.core.queue import AppJob, get_queue
from app.extensions import db
from app.notifications import tasks
from tests.conftest import free_port, running_smtp
from tests.notifications.conftest import (
    close_with_photo,
    outbox_rows,
    parts,
    queued_drains,
    submit,
)


def make_due(row) -> None:
    row.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


def perform_drain(app: Flask) -> int:
    """Run the queued drain job as the worker would: from Redis, in the worker's app context."""
    [job_id] = [
        j.id for j in get_queue("notifications").jobs if j.func_name.endswith("tasks.drain")
    ]
    job = Job.fetch(job_id, connection=app.extensions["rq"].redis)
    assert job.func is tasks.drain
    saved, AppJob.flask_app = AppJob.flask_app, app
    try:
        return job.perform()
    finally:
        AppJob.flask_app = saved


def test_smtp_down_is_retried_with_backoff_then_swept_and_delivered(
    app, city, mailbox, restore_config
):
    sr = submit()
    db.session.commit()
    tasks.wake()  # the worker's listener, notified by the receipt's commit
    [row] = outbox_rows(sr.id, "receipt")
    real_port = restore_config["SMTP_PORT"]
    restore_config["SMTP_PORT"] = free_port()  # nothing listens there

    before = utcnow()
    assert tasks.deliver(row.id) == "retry"

    db.session.refresh(row)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "Connection refused" in row.last_error or "Errno" in row.last_error
    backoff = timedelta(seconds=app.config["OUTBOX_BACKOFF_SECONDS"])
    assert before + backoff <= row.next_attempt_at <= utcnow() + backoff
    # a job arriving early (a duplicate, the first job's twin) does not jump the backoff
    assert tasks.deliver(row.id) == "skipped"
    assert tasks.sweep_outbox() == 0
    db.session.refresh(row)
    assert row.attempts == 1

    restore_config["SMTP_PORT"] = real_port
    make_due(row)
    assert queued_drains() == 1  # woken by the receipt's commit and still waiting...
    assert tasks.sweep_outbox() == 0  # ...so the sweep wakes no other

    assert perform_drain(app) == 1
    [msg] = mailbox.wait_for(1)
    assert str(sr.id) in msg["Subject"]
    db.session.refresh(row)
    assert (row.status, row.attempts) == ("sent", 2)
    assert tasks.sweep_outbox() == 0


def test_backoff_doubles_and_is_capped(app):
    with app.app_context():
        base = app.config["OUTBOX_BACKOFF_SECONDS"]
        assert tasks.retry_delay(1) == timedelta(seconds=base)
        assert tasks.retry_delay(3) == timedelta(seconds=base * 4)
        assert tasks.retry_delay(40) == tasks.MAX_BACKOFF == timedelta(hours=6)
        assert tasks.retry_delay(10_000) == tasks.MAX_BACKOFF


def test_a_row_fails_for_good_after_the_last_attempt(city, mailbox, restore_config):
    sr = submit()
    db.session.commit()
    [row] = outbox_rows(sr.id, "receipt")
    real_port = restore_config["SMTP_PORT"]
    restore_config["OUTBOX_MAX_ATTEMPTS"] = 3
    restore_config["SMTP_PORT"] = free_port()

    results = []
    for _ in range(3):
        results.append(tasks.deliver(row.id))
        db.session.refresh(row)
        if row.status == "pending":
            make_due(row)
    assert results == ["retry", "retry", "failed"]
    assert (row.status, row.attempts) == ("failed", 3)
    assert row.last_error

    restore_config["SMTP_PORT"] = real_port
    assert tasks.sweep_outbox() == 0
    assert tasks.deliver(row.id) == "skipped"
    assert mailbox.messages == []


class RefuseEveryone:
    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        return "550 5.1.1 No such mailbox"


def test_a_refused_mailbox_is_not_retried(city, restore_config):
    sr = submit()
    db.session.commit()
    [row] = outbox_rows(sr.id, "receipt")
    with running_smtp(RefuseEveryone()) as port:
        restore_config["SMTP_PORT"] = port
        assert tasks.deliver(row.id) == "failed"
    db.session.refresh(row)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "550" in row.last_error


def test_redis_down_at_commit_loses_nothing(app, city, mailbox, redis_down):
    sr = submit()
    db.session.commit()
    close_with_photo(sr, note="Cold patch applied.")
    db.session.commit()  # the after-commit push fails; the commit itself must not
    rows = outbox_rows(sr.id)
    assert [(r.event, r.status) for r in rows] == [("receipt", "pending"), ("closed", "pending")]
    assert tasks.sweep_outbox() == 0  # still down: the sweep gives up quietly

    app.extensions["rq"] = redis_down  # Redis is back
    queue = get_queue("notifications")
    assert queue.count == 0  # nothing reached Redis at commit time
    assert tasks.sweep_outbox() == 1
    assert queued_drains() == 1

    assert perform_drain(app) == 2
    messages = mailbox.wait_for(2)
    closed = next(m for m in messages if "is fixed" in m["Subject"])
    assert "Cold patch applied." in parts(closed)[0]
    for r in rows:
        db.session.refresh(r)
        assert r.status == "sent"


def test_sweep_wakes_a_drain_only_when_none_is_on_its_way(city):
    submit()
    db.session.commit()
    tasks.wake()  # the worker's listener, notified by the receipt's commit
    queue = get_queue("notifications")
    assert queued_drains() == 1
    assert tasks.sweep_outbox() == 0
    assert queued_drains() == 1
    # the job is lost but its wake-up flag stays up (a worker killed mid-job): the sweep
    # must not trust the flag
    queue.empty()
    assert tasks.sweep_outbox() == 1
    assert queued_drains() == 1
    # Redis restarted empty: job and flag both gone
    queue.connection.flushdb()
    assert tasks.sweep_outbox() == 1
    assert queued_drains() == 1


def test_a_drain_delivers_everything_due_and_leaves_the_rest(app, city, mailbox):
    rows = []
    for _ in range(3):
        rows.append(outbox_rows(submit().id)[0])
        db.session.commit()
    later = rows[-1]
    later.next_attempt_at = utcnow() + timedelta(hours=1)
    db.session.commit()
    tasks.wake()  # the worker's listener, notified by the commits
    assert perform_drain(app) == 2
    assert len(mailbox.wait_for(2)) == 2
    for r in rows:
        db.session.refresh(r)
    assert [r.status for r in rows] == ["sent", "sent", "pending"]


def test_the_worker_runs_the_outbox_sweep_periodically(app):
    periodic = app.extensions["rq"].periodic
    [sweep] = [p for p in periodic if p.func is tasks.sweep_outbox]
    assert sweep.every == app.config["OUTBOX_SWEEP_SECONDS"]


def test_an_rq_worker_delivers_what_intake_and_closing_owed(app, city, mailbox):
    sr = submit()
    db.session.commit()
    close_with_photo(sr, note="Done.")
    db.session.commit()
    tasks.wake()  # the worker's listener, notified by the commits
    saved = AppJob.flask_app
    try:
        core_worker.run_worker(app, burst=True, with_sweeper=False)
    finally:
        AppJob.flask_app = saved
    messages = mailbox.wait_for(2)
    assert sorted(m["Subject"] for m in messages) == [
        f"We received your report {sr.id}: Pothole",
        f"Your request {sr.id} is fixed",
    ]
    assert get_queue("notifications").count == 0
    assert {r.status for r in outbox_rows(sr.id)} == {"sent"}


def test_a_message_that_cannot_be_built_counts_an_attempt_and_raises(city, mailbox):
    from app.notifications import service

    sr = submit()
    outbox_id = service.queue_notice("no-such-event", sr.id, "x@example.org", {})
    db.session.commit()
    with pytest.raises(ValueError, match="unknown event"):
        tasks.deliver(outbox_id)
    [row] = [r for r in outbox_rows(sr.id) if r.id == outbox_id]
    db.session.refresh(row)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "unknown event" in row.last_error
    assert row.next_attempt_at > utcnow()  # backs off like any failure, then ends "failed"
    assert mailbox.messages == []

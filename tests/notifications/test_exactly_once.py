"""Exactly once, measured on the real services: each fault test prints what arrived."""

from __future__ import annotations

from collections import Counter

from aiosmtpd.controller import Controller
from flask import Flask
from rq.job import Job

from app.core.queue import AppJob, get_queue
from app.extensions import db
from app.notifications import tasks
from tests.conftest import Mailbox, free_port
from tests.notifications.conftest import close_with_photo, outbox_rows, submit

FILED, CLOSED = 20, 5


def run_drains(app: Flask) -> int:
    """Run every queued drain job as the worker would; return how many messages they sent."""
    sent = 0
    for job_id in list(get_queue("notifications").job_ids):
        job = Job.fetch(job_id, connection=app.extensions["rq"].redis)
        saved, AppJob.flask_app = AppJob.flask_app, app
        try:
            sent += job.perform()
        finally:
            AppJob.flask_app = saved
        get_queue("notifications").remove(job_id)
    return sent


def test_redis_down_while_filing_and_closing_then_back(app, city, mailbox, redis_down):
    reporters = [f"reporter{i}@example.org" for i in range(FILED)]
    requests = []
    for email in reporters:
        requests.append(submit(email=email))
        db.session.commit()  # each wake-up after commit fails: Redis is down
    for sr in requests[:CLOSED]:
        close_with_photo(sr, note="Patched.")
        db.session.commit()
    assert tasks.sweep_outbox() == 0  # still down

    app.extensions["rq"] = redis_down  # Redis is back
    assert get_queue("notifications").count == 0  # nothing reached it while down
    assert tasks.sweep_outbox() == 1
    assert tasks.sweep_outbox() == 0  # the drain is on its way: no second one
    assert run_drains(app) == FILED + CLOSED

    messages = mailbox.wait_for(FILED + CLOSED)
    kinds = Counter(
        (str(m["To"]), "receipt" if "received" in m["Subject"] else "closure") for m in messages
    )
    receipts = Counter(to for to, kind in kinds.elements() if kind == "receipt")
    closures = Counter(to for to, kind in kinds.elements() if kind == "closure")
    print(
        f"\nRedis down: {FILED} filed, {CLOSED} closed -> {len(messages)} messages, "
        f"{sum(receipts.values())} receipts to {len(receipts)} reporters, "
        f"{sum(closures.values())} closures to {len(closures)} reporters"
    )
    assert receipts == Counter(reporters)
    assert closures == Counter(reporters[:CLOSED])
    assert tasks.sweep_outbox() == 0
    assert run_drains(app) == 0
    assert len(mailbox.messages) == FILED + CLOSED


class Greylisting(Mailbox):
    """Answers 451 (try again later) to the first `refusals` deliveries, then accepts."""

    def __init__(self, refusals: int) -> None:
        super().__init__()
        self.refusals = refusals
        self.tries = 0

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        self.tries += 1
        if self.tries <= self.refusals:
            return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_smtp_refusing_twice_with_451_delivers_on_the_third_attempt_once(city, restore_config):
    sr = submit()
    db.session.commit()
    [row] = outbox_rows(sr.id, "receipt")
    server = Greylisting(refusals=2)
    port = free_port()
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        restore_config["SMTP_PORT"] = port
        results = []
        for _ in range(4):
            results.append(tasks.deliver(row.id))
            db.session.refresh(row)
            assert "451" in row.last_error or row.status == "sent"
            row.next_attempt_at = row.created_at  # skip the backoff
            db.session.commit()
        messages = server.wait_for(1)
    finally:
        controller.stop()
    print(f"\nSMTP 451 twice: attempts {results}, {server.tries} RCPTs, {len(messages)} delivered")
    assert results == ["retry", "retry", "sent", "skipped"]
    assert len(messages) == 1
    assert (row.status, row.attempts) == ("sent", 3)

"""The digest's schedule: rq's CronScheduler in every worker, and exactly one digest however
many workers run the job at once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask_migrate import upgrade
from rq.cron import CronScheduler
from shapely.geometry import box
from sqlalchemy import func, select, update

from app import create_app
from app.core import worker as core_worker
from app.core.clock import utcnow
from app.core.queue import AppJob, get_queue
from app.extensions import db
from app.notifications import digest, tasks
from app.notifications.models import Outbox, OverdueDigest
from app.requests.models import ServiceRequest
from tests import factories
from tests.conftest import TEST_DB, TEST_DB_URL, db_url, recreate_database

DIGEST_JOB = "app.notifications.digest.send_overdue_digests"
DIGEST_DB = f"{TEST_DB}_digest"
BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]


def overdue_request(code: str, due_at: datetime) -> None:
    sr = factories.submit(code, email="")
    db.session.execute(
        update(ServiceRequest).where(ServiceRequest.id == sr.id).values(due_at=due_at)
    )


def test_every_worker_schedules_the_digest_each_quarter_hour(app):
    scheduler = core_worker.cron_scheduler(app)
    [job] = [j for j in scheduler.get_jobs() if j.func is digest.send_overdue_digests]
    assert job.cron == "*/15 * * * *"
    with app.app_context():
        assert job.queue_name == get_queue("notifications").name
    assert job.next_enqueue_time is not None
    assert job.next_enqueue_time - utcnow() <= timedelta(minutes=15)
    assert job.next_enqueue_time.minute % 15 == 0 and job.next_enqueue_time.second == 0


def test_the_scheduler_enqueues_the_job_and_a_worker_sends_the_digest(
    app, city, mailbox, restore_config
):
    restore_config["OVERDUE_DIGEST_HOUR"] = 0  # whatever the hour the tests run at
    overdue_request("pothole", utcnow() - timedelta(hours=1))
    db.session.commit()
    scheduler = core_worker.cron_scheduler(app)
    [job] = [j for j in scheduler.get_jobs() if j.func is digest.send_overdue_digests]
    assert scheduler.enqueue_jobs() == []  # not before its quarter hour
    job.next_enqueue_time = utcnow() - timedelta(seconds=1)  # the quarter hour has come

    assert scheduler.enqueue_jobs() == [job]
    queued = get_queue("notifications").jobs
    assert [j.func_name for j in queued] == [DIGEST_JOB]
    assert job.next_enqueue_time > utcnow()  # and the next run is a quarter hour on

    saved = AppJob.flask_app
    try:
        core_worker.run_worker(app, burst=True, with_sweeper=False)
        # the digest's outbox row notified the worker's listener at commit, which wakes a
        # drain (the test's transaction never commits, so the test stands in for it)
        assert tasks.wake()
        core_worker.run_worker(app, burst=True, with_sweeper=False)
    finally:
        AppJob.flask_app = saved
    [msg] = mailbox.wait_for(1)
    assert msg["To"] == "dispatcher@city.test"
    assert msg["Subject"].strip().startswith("Overdue digest for Public Works on ")
    assert get_queue("notifications").count == 0


@pytest.mark.e2e
def test_flask_worker_runs_the_cron_scheduler_beside_the_rq_worker(app, smtp_server, tmp_path):
    redis = app.extensions["rq"].redis
    env = {
        **os.environ,
        "CITY311_ENV": "development",
        "DATABASE_URL": TEST_DB_URL,
        "REDIS_URL": app.config["REDIS_URL"],
        "RQ_QUEUE_PREFIX": "city311-crontest",
        "SECRET_KEY": "cron-test",
        "SMTP_HOST": smtp_server[0],
        "SMTP_PORT": str(smtp_server[1]),
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    log_path = tmp_path / "worker.log"
    with open(log_path, "w") as log:
        worker = subprocess.Popen(
            [str(BIN / "flask"), "--app", "wsgi", "worker"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            ours = _wait_for_scheduler(redis, worker)
            assert ours is not None, log_path.read_text()
            [job] = [j for j in ours.get_jobs() if j.func_name == DIGEST_JOB]
            assert (job.cron, job.queue_name) == ("*/15 * * * *", "city311-crontest-notifications")
            assert ours.pid == worker.pid  # a thread of the worker, not a process of its own
        finally:
            worker.terminate()
            worker.wait(timeout=20)
    # a worker told to stop takes its scheduler out of rq's registry
    assert not [s for s in CronScheduler.all(redis) if s.pid == worker.pid]


def _wait_for_scheduler(redis, worker: subprocess.Popen) -> CronScheduler | None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and worker.poll() is None:
        for scheduler in CronScheduler.all(redis):
            if scheduler.pid == worker.pid and scheduler.get_jobs():
                return scheduler
        time.sleep(0.2)
    return None


@pytest.fixture(scope="module")
def committed_app(smtp_server, tmp_path_factory) -> Iterator[Flask]:
    recreate_database(DIGEST_DB)
    app = create_app(
        "test",
        {
            "SQLALCHEMY_DATABASE_URI": db_url(DIGEST_DB),
            "MEDIA_ROOT": str(tmp_path_factory.mktemp("digest-media")),
            "SMTP_HOST": smtp_server[0],
            "SMTP_PORT": smtp_server[1],
        },
    )
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield app
    with app.app_context():
        db.engine.dispose()
    app.extensions["rq"].redis.close()


def _run_in_its_own_worker(
    app: Flask, now: datetime, start: threading.Barrier, queued: list[int]
) -> None:
    with app.app_context():
        try:
            start.wait()
            queued.append(digest.send_overdue_digests(now))
        finally:
            db.session.remove()


def test_two_workers_running_the_job_at_once_send_each_digest_once(committed_app):
    departments = 12
    morning = datetime(2026, 12, 1, 7, 0, tzinfo=ZoneInfo("America/New_York"))
    with committed_app.app_context():
        for n in range(departments):
            department = factories.make_department(f"D{n:02}")
            factories.make_service_type(f"type{n}", department)
            factories.make_user(f"dispatch{n}@city.test", "dispatcher", department_id=department.id)
        factories.make_district("1", "Ward 1", box(-71.10, 42.30, -71.00, 42.35))
        db.session.flush()
        for n in range(departments):
            overdue_request(f"type{n}", morning - timedelta(hours=n + 1))
        db.session.commit()
        db.session.remove()

    for day in range(3):  # three mornings, three races
        now = morning + timedelta(days=day)
        start = threading.Barrier(2)
        queued: list[int] = []
        workers = [
            threading.Thread(
                target=_run_in_its_own_worker, args=(committed_app, now, start, queued)
            )
            for _ in range(2)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        assert len(queued) == 2 and sum(queued) == departments, queued

    with committed_app.app_context():
        rows = db.session.execute(
            select(Outbox.recipient, Outbox.dedupe_key).where(Outbox.event == "overdue_digest")
        ).all()
        settled = db.session.scalar(select(func.count()).select_from(OverdueDigest))
        db.session.remove()
    assert len(rows) == len(set(rows)) == 3 * departments  # each digest once a day
    assert settled == 3 * departments

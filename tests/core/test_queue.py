"""Jobs reach Redis only after the transaction that owes them commits, and a dead Redis
never breaks that commit."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import text

from app.core import queue
from app.core.clock import utcnow
from app.extensions import db
from tests.conftest import free_port


def test_a_job_is_pushed_when_the_transaction_commits(app):
    with app.app_context():
        queue.enqueue_after_commit(utcnow, queue="default", job_id="after-commit")
        assert queue.get_queue("default").count == 0
        db.session.commit()
        assert queue.get_queue("default").job_ids == ["after-commit"]
        db.session.commit()  # a later commit does not push it again
        assert queue.get_queue("default").count == 1


def test_a_job_is_forgotten_when_the_transaction_rolls_back(app):
    with app.app_context():
        db.session.execute(text("SELECT 1"))  # the write that owed the job
        queue.enqueue_after_commit(utcnow, queue="default", job_id="rolled-back")
        db.session.rollback()
        db.session.commit()
        assert queue.get_queue("default").count == 0


def test_with_redis_down_the_commit_succeeds_and_the_push_reports_failure(app):
    dead = Flask("redis-down")
    dead.config.update(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", RQ_QUEUE_PREFIX="x")
    real = app.extensions["rq"]
    app.extensions["rq"] = queue.QueueState(dead)
    try:
        with app.app_context():
            assert queue.enqueue_now(utcnow, queue="default") is False
            queue.enqueue_after_commit(utcnow, queue="default", job_id="lost")
            db.session.commit()  # must not raise
    finally:
        app.extensions["rq"] = real
    with app.app_context():
        assert queue.get_queue("default").count == 0


def _job_ids(name: str = "default") -> list[str]:
    return sorted(queue.get_queue(name).job_ids)


def test_a_savepoint_rollback_forgets_only_the_jobs_queued_inside_it(app):
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        queue.enqueue_after_commit(utcnow, queue="default", job_id="outer")
        savepoint = db.session.begin_nested()
        queue.enqueue_after_commit(utcnow, queue="default", job_id="in-savepoint")
        savepoint.rollback()
        queue.enqueue_after_commit(utcnow, queue="default", job_id="after-savepoint")
        assert _job_ids() == []
        db.session.commit()
        assert _job_ids() == ["after-savepoint", "outer"]


def test_a_released_savepoint_hands_its_jobs_to_the_outer_transaction(app):
    with app.app_context():
        with db.session.begin_nested():
            queue.enqueue_after_commit(utcnow, queue="default", job_id="released")
            inner = db.session.begin_nested()
            queue.enqueue_after_commit(utcnow, queue="default", job_id="inner-rolled-back")
            inner.rollback()
        assert _job_ids() == []  # releasing a savepoint commits nothing yet
        db.session.commit()
        assert _job_ids() == ["released"]


def test_an_outer_rollback_forgets_every_job_of_the_transaction(app):
    with app.app_context():
        queue.enqueue_after_commit(utcnow, queue="default", job_id="outer")
        with db.session.begin_nested():
            queue.enqueue_after_commit(utcnow, queue="default", job_id="released")
        db.session.rollback()
        db.session.commit()
        assert _job_ids() == []


def test_the_tests_connection_bound_session_keeps_its_jobs_per_savepoint(db_session):
    # The app's own commits are savepoint releases here, as in every view test.
    queue.enqueue_after_commit(utcnow, queue="default", job_id="kept")
    savepoint = db_session.begin_nested()
    queue.enqueue_after_commit(utcnow, queue="default", job_id="dropped")
    savepoint.rollback()
    db_session.commit()
    assert _job_ids() == ["kept"]

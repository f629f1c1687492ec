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

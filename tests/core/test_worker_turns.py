"""The worker takes its queues in turn, so a steady flow of receipts does not starve the rest.

Under the soak's steady reports, a drain of the outbox was always queued again by the time
the last one ended: with the queues taken in their order, the rollups' refresh (default
queue) and photo work (media queue) waited until the flow stopped.
"""

from __future__ import annotations

from app.core import worker as core_worker
from app.core.queue import AppJob, enqueue_now, state
from tests.core import jobs

KEY = "city311-test:worker-turns"


def test_the_other_queues_get_a_turn_between_two_jobs_of_one(app):
    with app.app_context():
        redis = state().redis
        redis.delete(KEY)
        for name in ("drain 1", "drain 2", "drain 3"):
            assert enqueue_now(jobs.note, KEY, name, queue="notifications")
        assert enqueue_now(jobs.note, KEY, "refresh", queue="default")
        assert enqueue_now(jobs.note, KEY, "photo", queue="media")
        saved = AppJob.flask_app
        try:
            core_worker.run_worker(app, burst=True, with_sweeper=False)
        finally:
            AppJob.flask_app = saved
        ran = [name.decode() for name in redis.lrange(KEY, 0, -1)]
    assert sorted(ran) == ["drain 1", "drain 2", "drain 3", "photo", "refresh"]
    # the first drain, then each other queue's job, before the next drain
    assert ran.index("refresh") < ran.index("drain 2")
    assert ran.index("photo") < ran.index("drain 2")
    assert ran.index("drain 1") < ran.index("drain 2") < ran.index("drain 3")

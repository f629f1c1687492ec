"""The rollups: an incremental refresh equals a full rebuild, and histogram percentiles stay
within the stated error of the exact ones."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from app.core.clock import utcnow
from app.extensions import db
from app.metrics import buckets, filters, kpis, rollup, service
from app.requests import lifecycle, transfer
from tests.metrics.conftest import at_noon, make

_COLUMNS = {
    "metrics_rollups": "grain, level, period, department_id, service_type_id, district_id, channel,"
    " requested, acknowledged, ack_seconds, closed, closed_counted, closed_duplicate,"
    " closed_referred, closed_no_action, within_sla, close_seconds, close_net_seconds,"
    " reopened, transferred, hist_keys, hist_counts",
}


def snapshot() -> dict[str, list[tuple]]:
    return {
        table: sorted(
            (tuple(r) for r in db.session.execute(text(f"SELECT {cols} FROM {table}"))),
            key=repr,
        )
        for table, cols in _COLUMNS.items()
    }


def test_incremental_refresh_equals_a_full_rebuild(history):
    # a worker may have refreshed this database before (its state committed): start afresh
    db.session.execute(text("DELETE FROM metrics_rollup_state"))
    assert rollup.refresh() == -1  # the first run builds everything
    before = snapshot()
    assert before["metrics_rollups"]
    assert rollup.refresh() >= 0

    # changes of every kind, several dated in the past as an import or a crew's offline
    # completion would be: their updated_at is old, so only their ids give them away
    reqs = history.requests
    lifecycle.close(reqs[6], reason="fixed", actor_id=None, at=utcnow() - timedelta(hours=1))
    transfer.transfer(
        reqs[8], service_code="streetlight", note="A light, not a hole", actor_id=None
    )
    lifecycle.reopen(reqs[0], actor_id=None, note="Sinking again")
    old = at_noon(history.first - timedelta(days=40))
    make("graffiti", old, ack=2, close=300)  # a request made and closed long ago
    make("pothole", old + timedelta(days=1), close=12, reason="duplicate", channel="api")
    db.session.execute(
        text("UPDATE service_requests SET updated_at = :old WHERE requested_at < :cut"),
        {"old": old, "cut": at_noon(history.first)},
    )
    db.session.flush()

    days = rollup.refresh()
    assert days > 0
    incremental = snapshot()
    assert incremental != before
    rollup.rebuild()
    assert snapshot() == incremental


def test_rebuild_and_refresh_commands(history, app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["metrics", "rebuild"])
    assert result.exit_code == 0, result.output
    assert re.search(r"Rebuilt \d+ months of rollups in", result.output), result.output
    result = runner.invoke(args=["metrics", "refresh"])
    assert result.exit_code == 0 and "Recomputed" in result.output, result.output
    assert db.session.execute(text("SELECT count(*) FROM metrics_rollups")).scalar()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bucket_percentiles_are_within_the_stated_error(seed):
    rng = random.Random(seed)
    values = [rng.lognormvariate(11, 1.5) + 60 for _ in range(rng.randint(1, 400))]
    ordered = sorted(values)
    for q in (0.5, 0.9):
        pos = q * (len(ordered) - 1)
        lo = int(pos)
        hi = min(lo + 1, len(ordered) - 1)
        exact = ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)
        estimate = buckets.percentile([(b, 1) for b in map(buckets.bucket_of, values)], q)
        assert estimate == pytest.approx(exact, rel=buckets.MAX_RELATIVE_ERROR)


def test_sql_and_python_bucket_the_same_way(db_session):
    for seconds in (0, 59.9, 60, 61, 3600, 86400 * 3.3, 86400 * 365 * 20):
        in_sql = db.session.execute(
            text(f"SELECT {buckets.sql_bucket(':s')}"), {"s": seconds}
        ).scalar()
        assert in_sql == buckets.bucket_of(seconds), seconds


def test_rollup_percentiles_agree_with_the_exact_query(city):
    rng = random.Random(7)
    start = at_noon(utcnow().date() - timedelta(days=45))
    for _ in range(60):
        requested = start + timedelta(hours=rng.uniform(0, 24 * 20))
        make(rng.choice(["pothole", "graffiti"]), requested, close=rng.lognormvariate(3.5, 1.2))
    rollup.refresh()
    f = filters.parse({"from": (start.date() - timedelta(days=1)).isoformat()})
    approx = kpis.by_group(f, "department").totals
    exact = service.response_times(
        "department", start - timedelta(days=1), utcnow() + timedelta(minutes=1)
    ).totals
    assert approx.closed_counted == exact.closed == 60
    for name in ("median_hours_to_close", "p90_hours_to_close"):
        assert getattr(approx, name) == pytest.approx(
            getattr(exact, name), rel=buckets.MAX_RELATIVE_ERROR, abs=0.01
        ), name


def test_the_worker_refreshes_the_rollups_every_minute(app):
    from app.core import queue as core_queue
    from app.core import worker as core_worker

    scheduler = core_worker.cron_scheduler(app)
    [job] = [j for j in scheduler.get_jobs() if j.func is rollup.refresh_job]
    assert job.cron == app.config["METRICS_ROLLUP_CRON"] == "* * * * *"
    with app.app_context():
        assert job.queue_name == core_queue.get_queue("default").name


def test_the_migrations_week_rows_from_day_rows_equal_the_workers(history):
    """Databases migrated with rollups get their week rows summed from the day rows; they
    must be the rows the worker builds from the raw requests."""
    import importlib.util
    from pathlib import Path

    versions = Path(__file__).resolve().parents[2] / "migrations" / "versions"
    path = next(versions.glob("*_5d1c0e7a9b42_*.py"))
    spec = importlib.util.spec_from_file_location("weeks_migration", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    rollup.refresh()
    columns = (
        "level, period, department_id, service_type_id, district_id, channel,"
        f" {migration.MEASURES}, hist_keys, hist_counts"
    )
    read = text(f"SELECT {columns} FROM metrics_rollups WHERE grain = 'w' ORDER BY {columns}")
    built = [tuple(r) for r in db.session.execute(read)]
    assert built, "the worker builds week rows"
    db.session.execute(text("DELETE FROM metrics_rollups WHERE grain = 'w'"))
    db.session.execute(text(migration.WEEKS_FROM_DAYS))
    assert [tuple(r) for r in db.session.execute(read)] == built

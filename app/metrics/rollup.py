"""Keep the rollup tables current: recompute whole city-local days, then their months.

A day's rows depend on the requests made that day, the closures that day and the
'reopened'/'transferred' events that day, each counted under the request's current
department, type, district and channel. `refresh` finds every day a change since the
last run can have moved (via service_requests.updated_at and request_events.at) and
recomputes exactly those days, so an incremental refresh equals a full rebuild.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import text

from app.core.clock import city_tz, utcnow
from app.extensions import db
from app.metrics import open_counts
from app.metrics import rollup_sql as sql
from app.metrics.models import DAY_LEVELS, LEVELS, RollupState

#: a change committed up to this long after its updated_at/at was stamped is still caught
OVERLAP = timedelta(minutes=15)
_LOCK = "SELECT pg_advisory_xact_lock(hashtext('city311.metrics_rollup'))"
_DAY = sql.DAY

# (four simple selects, each on its own index, rather than ORs that read whole tables)
# Every city-local day whose rows a change since :since can have moved: for each request
# updated or given an event since then (or inserted since, whatever its timestamps say),
# the day it was made, the day it closed, and the days of its closures, reopenings and
# transfers (a reopening empties an older closure's day; a transfer moves every one of
# its counts to another department or type).
_TOUCHED_DAYS = f"""
WITH touched AS (
    SELECT id FROM service_requests WHERE updated_at >= :since
    UNION
    SELECT id FROM service_requests WHERE id > :last_request_id
    UNION
    SELECT request_id FROM request_events WHERE at >= :since
    UNION
    SELECT request_id FROM request_events WHERE id > :last_event_id
)
SELECT DISTINCT day FROM (
    SELECT {_DAY.format(col="sr.requested_at")} AS day
    FROM service_requests sr JOIN touched t ON t.id = sr.id
    UNION
    SELECT {_DAY.format(col="sr.closed_at")}
    FROM service_requests sr JOIN touched t ON t.id = sr.id WHERE sr.closed_at IS NOT NULL
    UNION
    SELECT {_DAY.format(col="e.at")}
    FROM request_events e JOIN touched t ON t.id = e.request_id
    WHERE e.kind IN ('closed', 'reopened', 'transferred')
) AS days
ORDER BY day
"""


def local_midnight(day: date) -> datetime:
    """Return the start of a city-local day as an aware datetime."""
    return datetime.combine(day, time(0), tzinfo=city_tz())


def week_of(day: date) -> date:
    """Return the Monday that starts a day's week (as date_trunc('week') does)."""
    return day - timedelta(days=day.weekday())


def _month(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def recompute_days(first: date, after: date) -> None:
    """Replace the day rows of [first, after) and the week and month rows they touch."""
    tz = current_app.config["CITY_TIMEZONE"]
    months = (_month(first), _next_month(after - timedelta(days=1)))
    weeks = (week_of(first), week_of(after - timedelta(days=1)) + timedelta(days=7))
    for grain, (lo, hi), period, levels in (
        ("d", (first, after), sql.DAY, DAY_LEVELS),
        # a week's rows let a 12-month trend per week, and the days around a range's whole
        # months, read a row per week instead of seven
        ("w", weeks, sql.WEEK, DAY_LEVELS),
        ("m", months, sql.MONTH, LEVELS),
    ):
        bounds = {"first": lo, "after": hi}
        db.session.execute(
            text(
                "DELETE FROM metrics_rollups"
                f" WHERE grain = '{grain}' AND period >= :first AND period < :after"
            ),
            bounds,
        )
        params = {"lo": local_midnight(lo), "hi": local_midnight(hi), "tz": tz}
        db.session.execute(text(sql.insert_rows(grain, period, levels)), params)


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Group sorted days into [first, after) runs of consecutive days."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] == day:
            runs[-1] = (runs[-1][0], day + timedelta(days=1))
        else:
            runs.append((day, day + timedelta(days=1)))
    return runs


def _state() -> RollupState | None:
    return db.session.get(RollupState, 1, with_for_update=True)


def _newest_ids() -> tuple[int, int]:
    row = db.session.execute(
        text(
            "SELECT (SELECT COALESCE(max(id), 0) FROM service_requests),"
            " (SELECT COALESCE(max(id), 0) FROM request_events)"
        )
    ).one()
    return int(row[0]), int(row[1])


def _save_state(watermark: datetime, newest: tuple[int, int]) -> None:
    state = _state()
    if state is None:
        state = RollupState(id=1)
        db.session.add(state)
    state.refreshed_at = utcnow()
    state.watermark = watermark
    state.last_request_id, state.last_event_id = newest
    db.session.flush()


def rebuild(progress: Any = None) -> int:
    """Recompute every rollup row from the raw requests, a month at a time; return months."""
    db.session.execute(text(_LOCK))
    started, newest = utcnow(), _newest_ids()
    tz = current_app.config["CITY_TIMEZONE"]
    bounds = db.session.execute(
        text(f"SELECT min({_DAY.format(col='requested_at')}) FROM service_requests"), {"tz": tz}
    ).scalar()
    db.session.execute(text("DELETE FROM metrics_rollups"))
    months = 0
    if bounds is not None:
        today = utcnow().astimezone(city_tz()).date()
        month = _month(bounds)
        while month <= today:
            recompute_days(month, _next_month(month))
            months += 1
            if progress is not None:
                progress(month)
            month = _next_month(month)
    open_counts.recount()
    _save_state(started, newest)
    return months


def refresh() -> int:
    """Bring the rollups up to date with every change since the last run; return days redone.

    With no previous run this is a full rebuild. Runs under an advisory lock, so two
    workers never interleave their deletes and inserts.
    """
    db.session.execute(text(_LOCK))
    state = _state()
    if state is None:
        rebuild()
        return -1
    started, newest = utcnow(), _newest_ids()
    params = {
        "since": state.watermark - OVERLAP,
        "last_request_id": state.last_request_id,
        "last_event_id": state.last_event_id,
        "tz": current_app.config["CITY_TIMEZONE"],
    }
    days = [row[0] for row in db.session.execute(text(_TOUCHED_DAYS), params)]
    # the backlog's open counts are exact without it; folding keeps their deltas few
    open_counts.fold()
    for first, after in _runs(days):
        recompute_days(first, after)
    _save_state(started, newest)
    return len(days)


def refresh_job() -> None:
    """rq job: refresh the rollups and commit (the worker runs it on METRICS_ROLLUP_CRON)."""
    refresh()
    db.session.commit()


def last_refreshed() -> datetime | None:
    """Return when the rollups were last brought up to date, if ever."""
    state = db.session.get(RollupState, 1)
    return None if state is None else state.refreshed_at


def init_app(app: Flask) -> None:
    """Have the worker's scheduler refresh the rollups on METRICS_ROLLUP_CRON."""
    from app.core.queue import register_cron

    register_cron(app, refresh_job, app.config["METRICS_ROLLUP_CRON"], queue="default")

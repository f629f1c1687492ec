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
from app.metrics.buckets import sql_bucket
from app.metrics.models import RollupState

#: closures kept apart from time to close and the SLA share: nothing was fixed
EXCLUDED_REASONS = ("duplicate", "referred", "no_action_needed")
#: a change committed up to this long after its updated_at/at was stamped is still caught
OVERLAP = timedelta(minutes=15)
_LOCK = "SELECT pg_advisory_xact_lock(hashtext('city311.metrics_rollup'))"

_DIMS = "department_id, service_type_id, district_id, channel"
_SR_DIMS = "sr.department_id, sr.service_type_id, sr.district_id, sr.channel"
_COUNTED = f"(sr.closure_reason IS NULL OR sr.closure_reason NOT IN {EXCLUDED_REASONS!s})"
_CLOSE_S = "GREATEST(EXTRACT(EPOCH FROM (sr.closed_at - sr.requested_at)), 0)"
_CLOSE_NET_S = f"GREATEST({_CLOSE_S} - sr.held_seconds, 0)"
_ACK_S = "GREATEST(EXTRACT(EPOCH FROM (sr.acknowledged_at - sr.requested_at)), 0)"
_DAY = "CAST(({col} AT TIME ZONE :tz) AS date)"
_MEASURES = (
    "requested, acknowledged, ack_seconds, closed, closed_counted, closed_duplicate,"
    " closed_referred, closed_no_action, within_sla, close_seconds, close_net_seconds,"
    " reopened, transferred"
)

_DAY_ROWS = f"""
INSERT INTO metrics_rollups (grain, period, {_DIMS}, {_MEASURES})
SELECT 'd', period, {_DIMS}, {", ".join(f"sum({m})" for m in _MEASURES.split(", "))}
FROM (
    SELECT {_DAY.format(col="sr.requested_at")} AS period, {_SR_DIMS},
           1 AS requested, CAST(sr.acknowledged_at IS NOT NULL AS int) AS acknowledged,
           CAST(COALESCE({_ACK_S}, 0) AS bigint) AS ack_seconds,
           0 AS closed, 0 AS closed_counted, 0 AS closed_duplicate, 0 AS closed_referred,
           0 AS closed_no_action, 0 AS within_sla, CAST(0 AS bigint) AS close_seconds,
           CAST(0 AS bigint) AS close_net_seconds, 0 AS reopened, 0 AS transferred
    FROM service_requests sr
    WHERE sr.requested_at >= :lo AND sr.requested_at < :hi
    UNION ALL
    SELECT {_DAY.format(col="sr.closed_at")}, {_SR_DIMS}, 0, 0, 0,
           1, CAST({_COUNTED} AS int),
           CAST(sr.closure_reason = 'duplicate' AS int),
           CAST(sr.closure_reason = 'referred' AS int),
           CAST(sr.closure_reason = 'no_action_needed' AS int),
           CAST({_COUNTED} AND sr.closed_at <= sr.due_at AS int),
           CASE WHEN {_COUNTED} THEN CAST({_CLOSE_S} AS bigint) ELSE 0 END,
           CASE WHEN {_COUNTED} THEN CAST({_CLOSE_NET_S} AS bigint) ELSE 0 END,
           0, 0
    FROM service_requests sr
    WHERE sr.closed_at >= :lo AND sr.closed_at < :hi
    UNION ALL
    SELECT {_DAY.format(col="e.at")}, {_SR_DIMS}, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
           CAST(e.kind = 'reopened' AS int), CAST(e.kind = 'transferred' AS int)
    FROM request_events e JOIN service_requests sr ON sr.id = e.request_id
    WHERE e.at >= :lo AND e.at < :hi AND e.kind IN ('reopened', 'transferred')
) AS parts
GROUP BY period, {_DIMS}
"""

_DAY_HISTOGRAMS = f"""
INSERT INTO metrics_histograms (grain, period, {_DIMS}, measure, bucket, n)
SELECT 'd', period, {_DIMS}, measure, bucket, count(*)
FROM (
    SELECT {_DAY.format(col="sr.closed_at")} AS period, {_SR_DIMS},
           m.measure, CASE m.measure WHEN 1 THEN {sql_bucket(_CLOSE_S)}
                                     ELSE {sql_bucket(_CLOSE_NET_S)} END AS bucket
    FROM service_requests sr CROSS JOIN (VALUES (1), (2)) AS m(measure)
    WHERE sr.closed_at >= :lo AND sr.closed_at < :hi AND {_COUNTED}
    UNION ALL
    SELECT {_DAY.format(col="sr.requested_at")}, {_SR_DIMS}, 3, {sql_bucket(_ACK_S)}
    FROM service_requests sr
    WHERE sr.requested_at >= :lo AND sr.requested_at < :hi AND sr.acknowledged_at IS NOT NULL
) AS parts
GROUP BY period, {_DIMS}, measure, bucket
"""

_MONTH_ROWS = f"""
INSERT INTO metrics_rollups (grain, period, {_DIMS}, {_MEASURES})
SELECT 'm', CAST(date_trunc('month', period) AS date), {_DIMS},
       {", ".join(f"sum({m})" for m in _MEASURES.split(", "))}
FROM metrics_rollups
WHERE grain = 'd' AND period >= :first AND period < :after
GROUP BY 2, {_DIMS}
"""

_MONTH_HISTOGRAMS = f"""
INSERT INTO metrics_histograms (grain, period, {_DIMS}, measure, bucket, n)
SELECT 'm', CAST(date_trunc('month', period) AS date), {_DIMS}, measure, bucket, sum(n)
FROM metrics_histograms
WHERE grain = 'd' AND period >= :first AND period < :after
GROUP BY 2, {_DIMS}, measure, bucket
"""

# Every city-local day whose rows a change since :since can have moved: for each request
# updated or given an event since then (or inserted since, whatever its timestamps say),
# the day it was made, the day it closed, and the days of its closures, reopenings and
# transfers (a reopening empties an older closure's day; a transfer moves every one of
# its counts to another department or type).
_TOUCHED_DAYS = f"""
WITH touched AS (
    SELECT id FROM service_requests WHERE updated_at >= :since OR id > :last_request_id
    UNION
    SELECT request_id FROM request_events WHERE at >= :since OR id > :last_event_id
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


def _month(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def recompute_days(first: date, after: date) -> None:
    """Replace the day rows of [first, after) and the month rows of the months they touch."""
    tz = current_app.config["CITY_TIMEZONE"]
    params: dict[str, Any] = {"lo": local_midnight(first), "hi": local_midnight(after), "tz": tz}
    for table in ("metrics_rollups", "metrics_histograms"):
        db.session.execute(
            text(f"DELETE FROM {table} WHERE grain = 'd' AND period >= :first AND period < :after"),
            {"first": first, "after": after},
        )
    db.session.execute(text(_DAY_ROWS), params)
    db.session.execute(text(_DAY_HISTOGRAMS), params)
    months = {"first": _month(first), "after": _next_month(after - timedelta(days=1))}
    for table in ("metrics_rollups", "metrics_histograms"):
        db.session.execute(
            text(f"DELETE FROM {table} WHERE grain = 'm' AND period >= :first AND period < :after"),
            months,
        )
    db.session.execute(text(_MONTH_ROWS), months)
    db.session.execute(text(_MONTH_HISTOGRAMS), months)


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
    db.session.execute(text("DELETE FROM metrics_histograms"))
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

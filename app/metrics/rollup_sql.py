"""The SQL that sums raw requests into rollup rows, shared by the rollup builder and by the
raw-row reads (a drill-down, or the days a level keeps no day rows for).

`parts(period)` turns the requests made, the requests closed and the reopened/transferred
events in [:lo, :hi) into one row each, stamped with their city-local `period` (a day or
a month) and their request's current dimensions; `hist_parts(period)` does the same for
each duration to put in a histogram. Summing them per key gives every KPI's counts.
"""

from __future__ import annotations

from app.metrics.buckets import sql_bucket
from app.metrics.models import CHANNEL, DEPARTMENT, DISTRICT, HIST_KEY, SERVICE_TYPE

#: closures kept apart from time to close and the SLA share: nothing was fixed
EXCLUDED_REASONS = ("duplicate", "referred", "no_action_needed")

DIMS = "department_id, service_type_id, district_id, channel"
_SR_DIMS = "sr.department_id, sr.service_type_id, sr.district_id, sr.channel"
_COUNTED = f"(sr.closure_reason IS NULL OR sr.closure_reason NOT IN {EXCLUDED_REASONS!s})"
_CLOSE_S = "GREATEST(EXTRACT(EPOCH FROM (sr.closed_at - sr.requested_at)), 0)"
_CLOSE_NET_S = f"GREATEST({_CLOSE_S} - sr.held_seconds, 0)"
_ACK_S = "GREATEST(EXTRACT(EPOCH FROM (sr.acknowledged_at - sr.requested_at)), 0)"
MEASURES = (
    "requested",
    "acknowledged",
    "ack_seconds",
    "closed",
    "closed_counted",
    "closed_duplicate",
    "closed_referred",
    "closed_no_action",
    "within_sla",
    "close_seconds",
    "close_net_seconds",
    "reopened",
    "transferred",
)
SUMS = ", ".join(f"sum({m})" for m in MEASURES)
_NAMED_SUMS = ", ".join(f"sum({m}) AS {m}" for m in MEASURES)

DAY = "CAST(({col} AT TIME ZONE :tz) AS date)"
WEEK = "CAST(date_trunc('week', {col} AT TIME ZONE :tz) AS date)"
MONTH = "CAST(date_trunc('month', {col} AT TIME ZONE :tz) AS date)"


def parts(period: str) -> str:
    """Return the subquery of one row per request made, closure and event in [:lo, :hi)."""
    return f"""(
    SELECT {period.format(col="sr.requested_at")} AS period, {_SR_DIMS},
           1 AS requested, CAST(sr.acknowledged_at IS NOT NULL AS int) AS acknowledged,
           CAST(COALESCE({_ACK_S}, 0) AS bigint) AS ack_seconds,
           0 AS closed, 0 AS closed_counted, 0 AS closed_duplicate, 0 AS closed_referred,
           0 AS closed_no_action, 0 AS within_sla, CAST(0 AS bigint) AS close_seconds,
           CAST(0 AS bigint) AS close_net_seconds, 0 AS reopened, 0 AS transferred
    FROM service_requests sr
    WHERE sr.requested_at >= :lo AND sr.requested_at < :hi
    UNION ALL
    SELECT {period.format(col="sr.closed_at")}, {_SR_DIMS}, 0, 0, 0,
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
    SELECT {period.format(col="e.at")}, {_SR_DIMS}, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
           CAST(e.kind = 'reopened' AS int), CAST(e.kind = 'transferred' AS int)
    FROM request_events e JOIN service_requests sr ON sr.id = e.request_id
    WHERE e.at >= :lo AND e.at < :hi AND e.kind IN ('reopened', 'transferred')
) AS parts"""


def hist_parts(period: str) -> str:
    """Return the subquery of one row per duration (measure, bucket) in [:lo, :hi)."""
    return f"""(
    SELECT {period.format(col="sr.closed_at")} AS period, {_SR_DIMS},
           m.measure, CASE m.measure WHEN 1 THEN {sql_bucket(_CLOSE_S)}
                                     ELSE {sql_bucket(_CLOSE_NET_S)} END AS bucket
    FROM service_requests sr CROSS JOIN (VALUES (1), (2)) AS m(measure)
    WHERE sr.closed_at >= :lo AND sr.closed_at < :hi AND {_COUNTED}
    UNION ALL
    SELECT {period.format(col="sr.requested_at")}, {_SR_DIMS}, 3, {sql_bucket(_ACK_S)}
    FROM service_requests sr
    WHERE sr.requested_at >= :lo AND sr.requested_at < :hi AND sr.acknowledged_at IS NOT NULL
) AS parts"""


def exact_parts(period: str) -> str:
    """Return the subquery of one row per duration (measure, seconds) in [:lo, :hi): what
    hist_parts buckets, kept exact, for percentiles computed from the raw rows."""
    return f"""(
    SELECT {period.format(col="sr.closed_at")} AS period, {_SR_DIMS}, m.measure,
           CASE m.measure WHEN 1 THEN {_CLOSE_S} ELSE {_CLOSE_NET_S} END AS seconds
    FROM service_requests sr CROSS JOIN (VALUES (1), (2)) AS m(measure)
    WHERE sr.closed_at >= :lo AND sr.closed_at < :hi AND {_COUNTED}
    UNION ALL
    SELECT {period.format(col="sr.requested_at")}, {_SR_DIMS}, 3, {_ACK_S}
    FROM service_requests sr
    WHERE sr.requested_at >= :lo AND sr.requested_at < :hi AND sr.acknowledged_at IS NOT NULL
) AS parts"""


_BITS = (("department_id", DEPARTMENT), ("service_type_id", SERVICE_TYPE),
         ("district_id", DISTRICT), ("channel", CHANNEL))  # fmt: skip
# GROUPING() tells a dropped dimension (stored as 0 or '') from a kept one whose value is
# NULL (a request with no district)
_LEVEL = " | ".join(f"(CASE WHEN GROUPING({c}) = 0 THEN {bit} ELSE 0 END)" for c, bit in _BITS)
_KEPT_AS = ", ".join(
    f"CASE WHEN GROUPING({c}) = 0 THEN {c} ELSE {empty} END AS {c}"
    for c, empty in (
        ("department_id", "0"),
        ("service_type_id", "0"),
        ("district_id", "0"),
        ("channel", "''"),
    )
)


def _sets(levels: tuple[int, ...]) -> str:
    return "GROUPING SETS ({})".format(
        ", ".join("(" + ", ".join(c for c, bit in _BITS if level & bit) + ")" for level in levels)
    )


def insert_rows(grain: str, period: str, levels: tuple[int, ...]) -> str:
    """INSERT the rollup rows of [:lo, :hi) at every level of `levels`, histograms packed.

    Every histogram cell has a row of sums (a duration belongs to a request made or closed
    in the period), so the sums LEFT JOIN their histograms.
    """
    return f"""
WITH sums AS (
    SELECT {_LEVEL} AS level, period, {_KEPT_AS}, {_NAMED_SUMS}
    FROM {parts(period)}
    GROUP BY period, {_sets(levels)}
), cells AS (
    SELECT {_LEVEL} AS level, period, {_KEPT_AS}, measure * {HIST_KEY} + bucket AS hkey,
           count(*) AS n
    FROM {hist_parts(period)}
    GROUP BY period, measure, bucket, {_sets(levels)}
), hists AS (
    SELECT level, period, {DIMS}, array_agg(CAST(hkey AS smallint) ORDER BY hkey) AS keys,
           array_agg(CAST(n AS int) ORDER BY hkey) AS counts
    FROM cells GROUP BY level, period, {DIMS}
)
INSERT INTO metrics_rollups (grain, level, period, {DIMS}, {", ".join(MEASURES)},
                             hist_keys, hist_counts)
SELECT '{grain}', s.level, s.period, s.department_id, s.service_type_id, s.district_id,
       s.channel, {", ".join(f"s.{m}" for m in MEASURES)},
       COALESCE(h.keys, '{{}}'), COALESCE(h.counts, '{{}}')
FROM sums s LEFT JOIN hists h
  ON h.level = s.level AND h.period = s.period AND h.department_id = s.department_id
 AND h.service_type_id = s.service_type_id AND h.channel = s.channel
 AND h.district_id IS NOT DISTINCT FROM s.district_id
"""


def raw_sums(key_sql: str, conditions: str) -> str:
    """SELECT per key (and in total) the sums over raw rows of the days [:r_first, :r_last]."""
    return f"""
SELECT GROUPING({key_sql}) AS is_total, {key_sql} AS k, {_NAMED_SUMS}
FROM {parts(DAY)}
WHERE period >= :r_first AND period <= :r_last{conditions}
GROUP BY GROUPING SETS (({key_sql}), ())
"""


def raw_histograms(key_sql: str, conditions: str) -> str:
    """SELECT per key (and in total) the bucket counts over raw rows of [:r_first, :r_last]."""
    return f"""
SELECT GROUPING({key_sql}) AS is_total, {key_sql} AS k, measure * {HIST_KEY} + bucket AS hkey,
       count(*) AS n
FROM {hist_parts(DAY)}
WHERE period >= :r_first AND period <= :r_last{conditions}
GROUP BY GROUPING SETS (({key_sql}, measure, bucket), (measure, bucket))
"""

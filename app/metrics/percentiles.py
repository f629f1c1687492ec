"""Medians and p90s computed exactly from the raw rows where that is cheap.

The rollups' histograms give every percentile within buckets.MAX_RELATIVE_ERROR, whatever
the range. When the range under the filters holds few durations (at most
METRICS_EXACT_MAX_ROWS counted closures plus acknowledged requests, known exactly from the
rollup sums already read) sorting them costs less than being approximate, so they are read
again from service_requests and given by percentile_cont, with an error of 0. Only the
percentiles change source: every count still comes from the rollups, so a report's counts
are the same either way.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import text

from app.extensions import db
from app.metrics import buckets, cache
from app.metrics.filters import Filters
from app.metrics.rollup import local_midnight
from app.metrics.rollup_sql import DAY, exact_parts

EXACT = "exact"
HISTOGRAM = "histogram"

#: measure → (median, p90) in seconds, None where nothing was measured
Measured = dict[int, tuple[float | None, float | None]]
#: the same per key
Exact = dict[Any, Measured]


def rows_to_sort(sums: Mapping[str, int]) -> int:
    """Return how many durations the exact percentiles of these sums would sort."""
    return int(sums.get("closed_counted", 0)) + int(sums.get("acknowledged", 0))


def is_cheap(sums: Mapping[str, int]) -> bool:
    """Say whether the totals of a read are few enough to compute its percentiles exactly."""
    return rows_to_sort(sums) <= int(current_app.config["METRICS_EXACT_MAX_ROWS"])


def error_of(source: str) -> float:
    """Return the largest relative error of a percentile from this source."""
    return 0.0 if source == EXACT else buckets.MAX_RELATIVE_ERROR


def read(f: Filters, key_sql: str, total: Hashable) -> Exact:
    """Return the exact percentiles of [first, last] per value of `key_sql` (a dimension
    column or a period expression over `period`), and of all under `total`.

    Kept like the rollup reads until the next refresh, so the percentiles describe the
    same closures as the counts beside them.
    """
    conditions, params = f.sql()
    params.update(
        r_first=f.first,
        r_last=f.last,
        tz=current_app.config["CITY_TIMEZONE"],
        lo=local_midnight(f.first),
        hi=local_midnight(f.last + timedelta(days=1)),
    )
    sql = (
        f"SELECT GROUPING({key_sql}) AS is_total, {key_sql} AS k, measure,"
        " percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS p50,"
        " percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds) AS p90"
        f" FROM {exact_parts(DAY)}"
        f" WHERE period >= :r_first AND period <= :r_last{conditions}"
        f" GROUP BY GROUPING SETS (({key_sql}, measure), (measure))"
    )

    def compute() -> Exact:
        out: Exact = {}
        for r in db.session.execute(text(sql), params):
            cells = out.setdefault(total if r.is_total else r.k, {})
            cells[int(r.measure)] = (_float(r.p50), _float(r.p90))
        return out

    key = ("exact", sql, tuple(sorted((k, str(v)) for k, v in params.items())))
    return cache.cached(key, compute)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)

"""Read the rollups: sum the rows of a range per key, with their histograms merged.

A range's whole months come from the month rows, the days at either end from the day
rows, or from the raw requests for a level kept per month only. Whatever comes from the
rollups alone is cached until they next change (cache.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import text

from app.extensions import db
from app.metrics import buckets, cache
from app.metrics.filters import Filters
from app.metrics.models import (
    CHANNEL,
    DAY_LEVELS,
    DEPARTMENT,
    DISTRICT,
    HIST_KEY,
    LEVELS,
    MEASURES,
    SERVICE_TYPE,
)
from app.metrics.rollup import local_midnight
from app.metrics.rollup_sql import MEASURES as ROLLUP_COLUMNS
from app.metrics.rollup_sql import raw_histograms, raw_sums

#: the rollups' counts (the *_seconds sums are read through their histograms instead)
SUMS = tuple(m for m in ROLLUP_COLUMNS if not m.endswith("_seconds"))
_BITS = {
    "department_id": DEPARTMENT,
    "service_type_id": SERVICE_TYPE,
    "district_id": DISTRICT,
    "channel": CHANNEL,
}


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def split(
    f: Filters, *, days_only: bool = False, data_end: date | None = None
) -> tuple[tuple[date, date] | None, list]:
    """Split [first, last] into whole months [m_first, m_after) and the days around them.

    When nothing happened after `last` (the newest day with rollup rows, `data_end`, is
    not after it: a range ending today), last's month row holds exactly the month's days
    up to `last`, so that month counts as whole: one row per key instead of one per day.
    """
    m_first = f.first if f.first.day == 1 else _next_month(f.first)
    m_after = (f.last + timedelta(days=1)).replace(day=1)
    if data_end is not None and data_end <= f.last:
        m_after = _next_month(f.last)
    if days_only or m_first >= m_after:
        return None, [(f.first, f.last)]
    days = [
        (a, b) for a, b in ((f.first, m_first - timedelta(days=1)), (m_after, f.last)) if a <= b
    ]
    return (m_first, m_after), days


def weeks_within(first: date, last: date) -> tuple[tuple[date, date] | None, list]:
    """Split the days [first, last] into whole Monday weeks [w_first, w_after) and the days
    around them."""
    w_first = first + timedelta(days=(7 - first.weekday()) % 7)
    after = last + timedelta(days=1)
    w_after = after - timedelta(days=after.weekday())
    if w_first >= w_after:
        return None, [(first, last)]
    days = [(a, b) for a, b in ((first, w_first - timedelta(days=1)), (w_after, last)) if a <= b]
    return (w_first, w_after), days


def level_for(f: Filters, key_sql: str) -> int:
    """Return the smallest rollup level that keeps the grouped and every filtered dimension."""
    needed = _BITS.get(key_sql, 0)
    for column, bit in _BITS.items():
        if getattr(f, column) is not None:
            needed |= bit
    return next(level for level in LEVELS if level & needed == needed)


Sums = dict[Any, dict[str, int]]
Hists = dict[Any, dict[int, list[tuple[int, int]]]]
#: key → measure → (median, p90) in seconds
Measured = dict[Any, dict[int, tuple[float | None, float | None]]]


def _measure(hists: Hists) -> Measured:
    """Read each key's median and p90 of every measure from its histograms."""
    out: Measured = {}
    for key, cells in hists.items():
        out[key] = {}
        for m in MEASURES.values():
            p50, p90 = buckets.percentiles(cells.get(m, ()), (0.5, 0.9))
            out[key][m] = (p50, p90)
    return out


def _add(sums: Sums, hists: Hists, sums_sql: str, hist_sql: str, params: dict[str, Any]) -> None:
    for r in db.session.execute(text(sums_sql), params):
        into = sums.setdefault(TOTAL if r.is_total else r.k, dict.fromkeys(SUMS, 0))
        for c in SUMS:
            into[c] += int(getattr(r, c) or 0)
    # one row per key with its buckets as two arrays: thousands of (key, bucket) rows
    # would cost more to fetch than to sum
    packed = (
        "SELECT is_total, k, array_agg(hkey) AS keys, array_agg(n) AS counts"
        f" FROM ({hist_sql}) AS cells GROUP BY is_total, k"
    )
    for r in db.session.execute(text(packed), params):
        cells = hists[TOTAL if r.is_total else r.k]
        for hkey, n in zip(r.keys, r.counts, strict=True):
            measure, bucket = divmod(int(hkey), HIST_KEY)
            cells[measure].append((bucket, int(n)))


def _from_rollups(key_sql: str, where: str, params: dict[str, Any]) -> tuple[Sums, Measured]:
    # kept in the cache as percentiles: reading them from the histograms again on every
    # cached read cost more than the rest of a report
    sums, hists = _merged(key_sql, where, params)
    return sums, _measure(hists)


def _merged(key_sql: str, where: str, params: dict[str, Any]) -> tuple[Sums, Hists]:
    sums: Sums = {}
    hists: Hists = defaultdict(lambda: defaultdict(list))
    sums_sql = (
        f"SELECT GROUPING({key_sql}) AS is_total, {key_sql} AS k, "
        + ", ".join(f"sum({c}) AS {c}" for c in SUMS)
        + f" FROM metrics_rollups WHERE {where}"
        f" GROUP BY GROUPING SETS (({key_sql}), ())"
    )
    # per key only: the totals are summed here from the keys' buckets, which costs less
    # than a second pass of PostgreSQL's aggregation over every unnested cell. unnest in
    # the select list (a ProjectSet) costs ~1/3 less per cell than a LATERAL function scan
    hist_sql = (
        "SELECT false AS is_total, k, hkey, sum(n) AS n FROM ("
        f" SELECT {key_sql} AS k, unnest(hist_keys) AS hkey, unnest(hist_counts) AS n"
        f" FROM metrics_rollups WHERE {where}) AS cells GROUP BY k, hkey"
    )
    _add(sums, hists, sums_sql, hist_sql, params)
    totals: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for cells in hists.values():
        for measure, pairs in cells.items():
            into = totals[measure]
            for bucket, n in pairs:
                into[bucket] += n
    hists[TOTAL] = defaultdict(list, {m: list(b.items()) for m, b in totals.items()})
    return sums, hists


def aggregate(f: Filters, key_sql: str, *, days_only: bool = False) -> tuple[Sums, Measured]:
    """Sum the rows per key (the key TOTAL holds the totals): whole months from the month
    rows, the other days from the day rows, or from the raw requests for a level kept
    per month only. What comes from the rollups alone is cached until they next change."""
    level = level_for(f, key_sql)
    current = cache.stamp()
    months, days = split(f, days_only=days_only, data_end=data_end(current))
    conditions, params = f.sql()
    tz = current_app.config["CITY_TIMEZONE"]
    picks: list[str] = []
    if months is not None:
        picks.append("(grain = 'm' AND period >= :m_first AND period < :m_after)")
        params.update(m_first=months[0], m_after=months[1])
    raw_days = days if level not in DAY_LEVELS else []
    if level in DAY_LEVELS:
        # whole weeks from the week rows, unless the read is per day
        if key_sql != "period":
            days = _weeks_first(days, picks, params)
        for i, (a, b) in enumerate(days):
            picks.append(f"(grain = 'd' AND period >= :d{i}_first AND period <= :d{i}_last)")
            params.update({f"d{i}_first": a, f"d{i}_last": b})
    where = f"level = {level} AND ({' OR '.join(picks)}){conditions}"
    if not raw_days:
        key = (key_sql, where, tuple(sorted(params.items())))
        return cache.cached(key, lambda: _from_rollups(key_sql, where, params), current)
    sums: Sums = {}
    hists: Hists = defaultdict(lambda: defaultdict(list))
    if picks:
        sums, hists = _merged(key_sql, where, params)
    for a, b in raw_days:
        raw = dict(params, r_first=a, r_last=b, tz=tz)
        raw.update(lo=local_midnight(a), hi=local_midnight(b + timedelta(days=1)))
        _add(sums, hists, raw_sums(key_sql, conditions), raw_histograms(key_sql, conditions), raw)
    return sums, _measure(hists)


def _weeks_first(days: list, picks: list[str], params: dict[str, Any]) -> list:
    """Pick the week rows of the whole weeks of each run of days; return the days left."""
    left = []
    for i, (a, b) in enumerate(days):
        weeks, rest = weeks_within(a, b)
        if weeks is not None:
            picks.append(f"(grain = 'w' AND period >= :w{i}_first AND period < :w{i}_after)")
            params.update({f"w{i}_first": weeks[0], f"w{i}_after": weeks[1]})
        left.extend(rest)
    return left


def data_end(current: Hashable | None = cache.UNSET) -> date | None:
    """Return the newest city-local day the rollups hold anything for (None: empty)."""

    def read() -> date | None:
        sql = "SELECT max(period) FROM metrics_rollups WHERE grain = 'd' AND level = 0"
        return db.session.execute(text(sql)).scalar()

    return cache.cached(("data_end",), read, current)


class _Total:
    """The key of the all-groups row (a key of its own: None is the 'no district' group)."""


TOTAL = _Total()

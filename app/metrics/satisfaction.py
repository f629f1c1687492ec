"""Satisfaction where asked: the reporters' answers to "is it fixed?" per group.

The answers live in the notifications feature's table; metrics only reads it, by name, so
the two features stay apart. An answer counts in the range when it was given in it (a
city-local day), under its request's current department, type, district and channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import text

from app.extensions import db
from app.metrics.filters import Filters
from app.metrics.rollup import local_midnight

#: the notifications feature's answers (app/notifications/models.py SatisfactionResponse)
TABLE = "satisfaction_responses"


@dataclass(frozen=True)
class Answers:
    responses: int = 0
    fixed: int = 0
    ratings: int = 0
    rating_sum: int = 0


class Total:
    """The key of the all-groups line (None is a group of its own: no district)."""


TOTAL = Total()


def by_key(f: Filters, key_sql: str) -> dict[Any, Answers]:
    """Return the answers given in [first, last] per value of `key_sql` (a service_requests
    column) and, under TOTAL, in all."""
    return _read(f, f"sr.{key_sql}", {})


#: an answer's period: the city-local day it was given on, or its week or month
_PERIOD = "CAST(date_trunc('{period}', a.created_at AT TIME ZONE :tz) AS date)"


def by_period(f: Filters, period: str) -> dict[Any, Answers]:
    """Return the answers given in [first, last] per day, week or month (the first day of
    each, as the trend keys its rows) and, under TOTAL, in all."""
    if period not in ("day", "week", "month"):
        raise ValueError(period)
    tz = current_app.config["CITY_TIMEZONE"]
    return _read(f, _PERIOD.format(period=period), {"tz": tz})


def _read(f: Filters, key: str, extra: dict[str, Any]) -> dict[Any, Answers]:
    conditions, params = f.sql("sr")
    params.update(extra)
    params.update(lo=local_midnight(f.first), hi=local_midnight(f.last + timedelta(days=1)))
    rows = db.session.execute(
        text(
            f"SELECT GROUPING({key}) AS is_total, {key} AS k, count(*) AS responses,"
            " count(*) FILTER (WHERE a.fixed) AS fixed, count(a.rating) AS ratings,"
            " COALESCE(sum(a.rating), 0) AS rating_sum"
            f" FROM {TABLE} a JOIN service_requests sr ON sr.id = a.request_id"
            f" WHERE a.created_at >= :lo AND a.created_at < :hi{conditions}"
            f" GROUP BY GROUPING SETS (({key}), ())"
        ),
        params,
    )
    return {
        TOTAL if r.is_total else r.k: Answers(r.responses, r.fixed, r.ratings, int(r.rating_sum))
        for r in rows
    }


def apply(fig: Any, answers: Answers | None) -> None:
    """Set a Figures' satisfaction fields, and flag them when from too few answers."""
    a = answers or Answers()
    fig.satisfaction_responses, fig.satisfaction_ratings = a.responses, a.ratings
    fig.pct_fixed = round(100.0 * a.fixed / a.responses, 1) if a.responses else None
    fig.mean_rating = round(a.rating_sum / a.ratings, 2) if a.ratings else None
    min_sample = int(current_app.config["METRICS_MIN_SAMPLE"])
    if a.responses < min_sample:
        fig.small_sample.append("pct_fixed")
    if a.ratings < min_sample:
        fig.small_sample.append("mean_rating")

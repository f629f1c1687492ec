"""The one place that reads the time, so that tests and importers can reason about it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import overload
from zoneinfo import ZoneInfo

from flask import current_app


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def city_tz() -> ZoneInfo:
    """Return the city's timezone (CITY_TIMEZONE)."""
    return ZoneInfo(current_app.config["CITY_TIMEZONE"])


@overload
def to_city_time(moment: datetime) -> datetime: ...
@overload
def to_city_time(moment: None) -> None: ...
def to_city_time(moment: datetime | None) -> datetime | None:
    """Convert an aware datetime to the city's timezone for display."""
    return moment.astimezone(city_tz()) if moment is not None else None


def add_business_days(start: datetime, days: int, tz: ZoneInfo) -> datetime:
    """Return start plus `days` working days (Mon–Fri) counted in the city's timezone.

    A request made on a weekend starts its clock on Monday, as the city's SLA calendars do.
    """
    local = start.astimezone(tz)
    remaining = days
    while remaining > 0:
        local += timedelta(days=1)
        if local.weekday() < 5:
            remaining -= 1
    # Landing on a weekend is impossible once days > 0; with days == 0 keep the start.
    return local.astimezone(UTC)

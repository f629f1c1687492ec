"""The one place that reads the time, so that tests and importers can reason about it."""

from __future__ import annotations

from datetime import UTC, datetime
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

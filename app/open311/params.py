"""GeoReport v2 parameters: the jurisdiction, and reading values as clients really send them."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

from flask import current_app

from app.core.errors import DomainError, NotFound
from app.core.inputs import check_moment

#: the spec's defaults for GET requests: the most recent 90 days, at most 1000 requests
DEFAULT_WINDOW = timedelta(days=90)
MAX_REQUESTS = 1000


def jurisdiction_id() -> str:
    return current_app.config["OPEN311_JURISDICTION_ID"]


def check_jurisdiction(value: str | None) -> None:
    """Accept no jurisdiction_id or ours.

    :raises NotFound: another jurisdiction was named.
    """
    if value and value.strip() != jurisdiction_id():
        raise NotFound(
            f"Unknown jurisdiction_id {value!r}: this endpoint serves {jurisdiction_id()!r}."
        )


def present(value: str | None) -> str | None:
    """Return the parameter stripped, or None when it is absent or empty (the spec: the same)."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def listed(values: list[str]) -> list[str]:
    """Return the items of a parameter given comma-delimited, repeated, or both."""
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


_DATETIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}(?::\d{2})?)(?:[.,](\d+))?"
    r"\s*(Z|z|[+-]\d{2}:?\d{2}|\s\d{2}:?\d{2})?$"
)


def parse_datetime(name: str, value: str) -> datetime:
    """Read a W3C datetime as clients really send it.

    Accepts a space for the `T` (Python's str(datetime)), fractional seconds, `Z` or an offset,
    and an offset whose `+` an unencoded query string turned into a space.

    :raises DomainError: not a datetime, or one without a timezone.
    """
    match = _DATETIME.match(value.strip()) if len(value) <= 64 else None
    if not match:
        raise DomainError(
            f"{name} must be a W3C datetime such as 2026-11-05T08:15:30-05:00, not {value!r}.",
            field=name,
        )
    day, clock, fraction, offset = match.groups()
    if offset is None:
        raise DomainError(
            f"{name} has no timezone: add Z or an offset such as -05:00 ({value!r}).", field=name
        )
    offset = offset.strip()
    if offset in ("Z", "z"):
        offset = "+00:00"
    elif offset[0] not in "+-":
        offset = "+" + offset
    if ":" not in offset:
        offset = f"{offset[:3]}:{offset[3:]}"
    micro = f".{(fraction or '0')[:6].ljust(6, '0')}"
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}{micro}{offset}")
    except ValueError:
        raise DomainError(f"{name} is not a real date and time: {value!r}.", field=name) from None
    return check_moment(name, moment).astimezone(UTC)


def parse_float(name: str, value: str) -> float:
    """Read a decimal number.

    :raises DomainError: not a finite number.
    """
    try:
        number = float(value)
    except ValueError:
        raise DomainError(f"{name} must be a number, not {value!r}.", field=name) from None
    if not math.isfinite(number):
        raise DomainError(f"{name} must be a finite number.", field=name)
    return number


def parse_int(name: str, value: str, *, low: int, high: int) -> int:
    """Read a whole number within [low, high].

    :raises DomainError: not a whole number in range.
    """
    try:
        number = int(value)
    except ValueError:
        raise DomainError(f"{name} must be a whole number, not {value!r}.", field=name) from None
    if not low <= number <= high:
        raise DomainError(f"{name} must be between {low} and {high}.", field=name)
    return number

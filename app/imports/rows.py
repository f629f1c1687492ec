"""What an export format module produces, and the parsing helpers the formats share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo


class RowError(ValueError):
    """A row that cannot be imported; the message says which column and why."""


@dataclass
class CityRow:
    """One request as a city's export recorded it, in our terms but with names, not ids."""

    #: the city's own case number: importing it again adds nothing
    case_id: str
    service_name: str
    #: the export's department code and name; either may be empty (matched by the other)
    department_code: str
    department_name: str
    requested_at: datetime
    lat: float | None
    long: float | None
    description: str = ""
    address: str = ""
    #: a service type created for this row goes in this group ("Streets", …)
    group: str = ""
    due_at: datetime | None = None
    closed_at: datetime | None = None
    closure_reason: str | None = None
    closure_note: str = ""
    channel: str = "import"
    #: the export's own words, kept in the request's 'created' event
    source: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Format:
    """An export format: its columns (lower-case), its timezone and its row parser."""

    name: str
    #: `import_source` of the stored rows: case numbers are unique within it
    source: str
    timezone: ZoneInfo
    #: the columns every file of this format has (compared lower-case, trimmed)
    required: tuple[str, ...]
    parse: Callable[[dict[str, str]], CityRow]
    #: one line for the help text and the README
    description: str
    encoding: str = "utf-8-sig"


def text(row: dict[str, str], column: str) -> str:
    """Return a column's value with its whitespace collapsed ("" when absent)."""
    return " ".join((row.get(column) or "").split())


def required_text(row: dict[str, str], column: str) -> str:
    value = text(row, column)
    if not value:
        raise RowError(f"{column} is empty")
    return value


def parse_time(
    row: dict[str, str], column: str, tz: ZoneInfo, formats: tuple[str, ...]
) -> datetime | None:
    """Return a local time of the export read in the city's timezone, or None when blank.

    :raises RowError: the value matches none of the formats.
    """
    value = text(row, column)
    if not value:
        return None
    for fmt in formats:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=tz)
        except ValueError:
            continue
    raise RowError(f"{column} {value!r} is not a date and time")


def required_time(
    row: dict[str, str], column: str, tz: ZoneInfo, formats: tuple[str, ...]
) -> datetime:
    moment = parse_time(row, column, tz, formats)
    if moment is None:
        raise RowError(f"{column} is empty")
    return moment


def coordinates(row: dict[str, str], lat_column: str, long_column: str) -> tuple[float, float]:
    """Return the row's (lat, long) as numbers, (0, 0) when blank (the location is unknown).

    :raises RowError: a value that is not a number.
    """
    values = []
    for column in (lat_column, long_column):
        value = text(row, column)
        try:
            values.append(float(value) if value else 0.0)
        except ValueError:
            raise RowError(f"{column} {value!r} is not a number") from None
    return values[0], values[1]


def closed_time(
    status_closed: bool, closed_at: datetime | None, column: str, requested_at: datetime
) -> datetime | None:
    """Return the closing time of a closed row (None for an open one).

    A closing date with no time of day (midnight) on the day the case opened means "closed
    that day": the request counts as closed when it was opened.

    :raises RowError: a closed row without its closing time, or one closed before it opened.
    """
    if not status_closed:
        return None
    if closed_at is None:
        raise RowError(f"the case is closed but {column} is empty")
    if (
        closed_at < requested_at
        and closed_at.time() == time(0)
        and (closed_at.date() == requested_at.date())
    ):
        # a closing date without its time, on the day the case was opened
        return requested_at
    if closed_at < requested_at:
        raise RowError(f"{column} {closed_at:%Y-%m-%d %H:%M} is before the case was opened")
    return closed_at


def closure_from_words(words: str) -> str:
    """Map a city's closure or resolution text to one of our closure reasons.

    Checked in this order: "duplicate" -> duplicate; referred to another agency -> referred;
    could not find the place -> could_not_locate; nothing to do (noted, invalid, no
    violation, no evidence, not necessary, cancelled) -> no_action_needed; otherwise fixed.
    """
    t = words.lower()
    if "duplicate" in t:
        return "duplicate"
    if any(w in t for w in ("refer", "external", "another agency", "other agency", "forward")):
        return "referred"
    if any(w in t for w in ("could not locate", "unable to locate", "could not find")):
        return "could_not_locate"
    if any(
        w in t
        for w in (
            "case noted",
            "case invalid",
            "novio:",
            "no violation",
            "no evidence",
            "not necessary",
            "cancel",
            "were gone",
            "no further action",
        )
    ):
        return "no_action_needed"
    return "fixed"

"""Domain verbs of the SLA clock: the holiday calendar and the due time of a service target."""

from __future__ import annotations

import csv
import io
import time as monotonic_time
from datetime import date, datetime, timedelta
from typing import IO

from flask import current_app
from sqlalchemy import extract, select
from sqlalchemy.dialects.postgresql import insert

from app.core import audit
from app.core.clock import city_tz
from app.core.errors import DomainError, NotFound
from app.extensions import db
from app.sla.calendar import BusinessCalendar, parse_hours, parse_workdays
from app.sla.models import Holiday

MAX_NAME = 200
_CACHE_KEY = "city311_business_calendar"


def parse_day(value: str, *, field: str = "date") -> date:
    """Parse a day written as YYYY-MM-DD.

    :raises DomainError: anything else (400).
    """
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise DomainError(
            f"{value!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-12-25.", field=field
        ) from None


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise DomainError(f"A holiday's name has 1 to {MAX_NAME} characters.", field="name")
    return name


def add_holiday(day: date | str, name: str) -> Holiday:
    """Add a holiday, or rename the one already on that day.

    Due times already set are kept: a holiday declared late does not move promises made.

    :raises DomainError: a date that does not parse or an empty name (400).
    """
    when = day if isinstance(day, date) else parse_day(day)
    holiday = db.session.scalar(select(Holiday).where(Holiday.day == when))
    before = None if holiday is None else {"day": when, "name": holiday.name}
    if holiday is None:
        holiday = Holiday(day=when, name=_clean_name(name))
        db.session.add(holiday)
    else:
        holiday.name = _clean_name(name)
    db.session.flush()
    audit.record(
        None,
        "create" if before is None else "update",
        ("holiday", when.isoformat(), holiday.name),
        before=before,
        after={"day": when, "name": holiday.name},
    )
    forget_calendar()
    return holiday


def remove_holiday(day: date | str) -> Holiday:
    """Remove the holiday on a day.

    :raises DomainError: a date that does not parse (400).
    :raises NotFound: no holiday on that day (404).
    """
    when = day if isinstance(day, date) else parse_day(day)
    holiday = db.session.scalar(select(Holiday).where(Holiday.day == when))
    if holiday is None:
        raise NotFound(f"There is no holiday on {when.isoformat()}.", field="date")
    audit.record(
        None,
        "delete",
        ("holiday", when.isoformat(), holiday.name),
        before={"day": when, "name": holiday.name},
    )
    db.session.delete(holiday)
    db.session.flush()
    forget_calendar()
    return holiday


def list_holidays(year: int | None = None) -> list[Holiday]:
    """Return the holidays, by date, optionally of one year."""
    stmt = select(Holiday).order_by(Holiday.day)
    if year is not None:
        stmt = stmt.where(extract("year", Holiday.day) == year)
    return list(db.session.scalars(stmt))


def load_holidays(stream: IO[str]) -> int:
    """Load holidays from CSV text with the columns date,name (a header row is optional).

    All or nothing: one bad row refuses the whole file, naming its line. A day already in
    the calendar takes the file's name.

    :raises DomainError: a row that does not parse (400).
    """
    rows: dict[date, str] = {}
    for number, row in enumerate(csv.reader(stream), start=1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if number == 1 and row[0].strip().lower() in ("date", "day"):
            continue
        if len(row) < 2:
            raise DomainError(f"Line {number}: write date,name (e.g. 2026-12-25,Christmas Day).")
        try:
            rows[parse_day(row[0])] = _clean_name(row[1])
        except DomainError as err:
            raise DomainError(f"Line {number}: {err.message}", field=err.field) from None
    if rows:
        stmt = insert(Holiday).values([{"day": d, "name": n} for d, n in rows.items()])
        db.session.execute(
            stmt.on_conflict_do_update(index_elements=["day"], set_={"name": stmt.excluded.name})
        )
        db.session.flush()
        audit.record(
            None,
            "load",
            ("holiday", "", f"{len(rows)} days from a file"),
            after={d.isoformat(): n for d, n in sorted(rows.items())},
        )
    forget_calendar()
    return len(rows)


def load_holidays_text(text: str) -> int:
    """Load holidays from CSV given as a string (an upload)."""
    return load_holidays(io.StringIO(text))


# ---------------------------------------------------------------------------------------------
# the calendar, cached per process: due times are computed on the intake path


def forget_calendar() -> None:
    """Drop this process's copy of the calendar (the others refresh within the cache time)."""
    current_app.extensions.pop(_CACHE_KEY, None)


def business_calendar() -> BusinessCalendar:
    """Return the city's business calendar, cached for HOLIDAY_CACHE_SECONDS per process."""
    cached: tuple[float, BusinessCalendar] | None = current_app.extensions.get(_CACHE_KEY)
    now = monotonic_time.monotonic()
    if cached is not None and now - cached[0] < current_app.config["HOLIDAY_CACHE_SECONDS"]:
        return cached[1]
    opens, closes = parse_hours(current_app.config["CITY_BUSINESS_HOURS"])
    calendar = BusinessCalendar(
        tz=city_tz(),
        opens=opens,
        closes=closes,
        workdays=parse_workdays(current_app.config["CITY_BUSINESS_DAYS"]),
        holidays=frozenset(db.session.scalars(select(Holiday.day))),
    )
    current_app.extensions[_CACHE_KEY] = (now, calendar)
    return calendar


def due_at(start: datetime, sla_value: int, sla_unit: str) -> datetime:
    """Return when a target of `sla_value` hours or business days, begun at `start`, is due.

    Calendar hours run day and night. Business days start counting when the offices open
    and skip weekends and holidays.
    """
    if sla_unit == "business_days":
        return business_calendar().add_business_days(start, sla_value)
    if sla_unit == "hours":
        return start + timedelta(hours=sla_value)
    raise ValueError(f"unknown SLA unit {sla_unit!r}")

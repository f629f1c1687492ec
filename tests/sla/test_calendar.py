"""Business time arithmetic: opening hours, weekends, holidays and daylight saving."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from app.sla.calendar import BusinessCalendar, parse_hours, parse_workdays

NY = ZoneInfo("America/New_York")
CAL = BusinessCalendar(tz=NY, holidays=frozenset({date(2026, 12, 25), date(2027, 1, 1)}))


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=NY)


@pytest.mark.parametrize(
    "made, due, why",
    [
        (local(2026, 11, 20, 15, 0), local(2026, 11, 27, 15, 0), "Friday afternoon: next Friday"),
        (
            local(2026, 11, 21, 11, 0),
            local(2026, 11, 30, 8, 0),
            "Saturday: counts from Monday 8:00",
        ),
        (local(2026, 11, 23, 18, 30), local(2026, 12, 1, 8, 0), "after hours: next morning"),
        (local(2026, 11, 23, 6, 0), local(2026, 11, 30, 8, 0), "before opening: that morning"),
        (local(2026, 12, 21, 10, 0), local(2026, 12, 29, 10, 0), "skips Christmas Day"),
        (local(2026, 12, 25, 10, 0), local(2027, 1, 5, 8, 0), "made on a holiday, two ahead"),
    ],
)
def test_five_business_days(made: datetime, due: datetime, why: str) -> None:
    assert CAL.add_business_days(made, 5).astimezone(NY) == due, why


def test_daylight_saving_keeps_the_wall_clock_hour() -> None:
    # 2026-11-01 is the end of daylight saving time in New York
    made = local(2026, 10, 29, 9, 0)
    assert CAL.add_business_days(made, 2).astimezone(NY) == local(2026, 11, 2, 9, 0)


def test_zero_days_is_the_clock_start() -> None:
    assert CAL.add_business_days(local(2026, 11, 21, 11, 0), 0) == local(2026, 11, 23, 8, 0)
    assert CAL.add_business_days(local(2026, 11, 23, 11, 0), 0).tzinfo == UTC


def test_other_hours_and_a_six_day_week() -> None:
    cal = BusinessCalendar(
        tz=NY, opens=time(7), closes=time(19), workdays=parse_workdays("mon-sat")
    )
    assert cal.add_business_days(local(2026, 11, 20, 18, 0), 1) == local(2026, 11, 21, 18, 0)


def test_a_calendar_without_working_days_refuses() -> None:
    with pytest.raises(ValueError, match="no working day"):
        BusinessCalendar(tz=NY, workdays=frozenset()).next_business_day(date(2026, 1, 1))


@pytest.mark.parametrize(
    "value, days",
    [("mon-fri", {0, 1, 2, 3, 4}), ("Mon,Wed , fri", {0, 2, 4}), ("sat-mon", {5, 6, 0})],
)
def test_parse_workdays(value: str, days: set[int]) -> None:
    assert parse_workdays(value) == frozenset(days)


@pytest.mark.parametrize("value", ["", "funday", "mon-xyz"])
def test_parse_workdays_refuses_nonsense(value: str) -> None:
    with pytest.raises(ValueError, match="mon-fri"):
        parse_workdays(value)


def test_parse_hours() -> None:
    assert parse_hours("08:30-16:45") == (time(8, 30), time(16, 45))
    for bad in ("8-5pm", "17:00-08:00", "nine to five"):
        with pytest.raises(ValueError):
            parse_hours(bad)

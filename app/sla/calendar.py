"""Business time arithmetic, free of Flask and the database so it can be reasoned about alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

#: an SLA target counts calendar hours, or business days of the city's calendar
SLA_UNITS = ("hours", "business_days")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: a year of days: no SLA reaches further, and a calendar with no working day must stop
_MAX_SCAN_DAYS = 366 * 5


@dataclass(frozen=True)
class BusinessCalendar:
    """When the city works: a timezone, opening hours, working weekdays and holidays."""

    tz: ZoneInfo
    opens: time = time(8, 0)
    closes: time = time(17, 0)
    workdays: frozenset[int] = frozenset(range(5))  # Monday=0 … Friday=4
    holidays: frozenset[date] = frozenset()

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.workdays and day not in self.holidays

    def next_business_day(self, day: date) -> date:
        """Return the first business day after `day`."""
        for _ in range(_MAX_SCAN_DAYS):
            day += timedelta(days=1)
            if self.is_business_day(day):
                return day
        raise ValueError("the business calendar has no working day")

    def clock_start(self, moment: datetime) -> datetime:
        """Return when a business-day clock started at `moment` really starts.

        A request made in business hours starts at once; one made at night, on a weekend or
        a holiday starts when the offices next open, as the city's SLA calendars count it.
        """
        local = moment.astimezone(self.tz)
        day = local.date()
        if self.is_business_day(day) and local.time() < self.closes:
            if local.time() >= self.opens:
                return local.astimezone(UTC)
            return self._at(day, self.opens)
        return self._at(self.next_business_day(day), self.opens)

    def add_business_days(self, start: datetime, days: int) -> datetime:
        """Return the moment `days` business days after the clock's start, at the same hour."""
        begun = self.clock_start(start).astimezone(self.tz)
        day = begun.date()
        for _ in range(days):
            day = self.next_business_day(day)
        return self._at(day, begun.time())

    def _at(self, day: date, at: time) -> datetime:
        # built from naive parts then localised, so DST changes keep the wall-clock hour
        return datetime.combine(day, at).replace(tzinfo=self.tz).astimezone(UTC)


def parse_hours(value: str) -> tuple[time, time]:
    """Parse opening hours such as "08:00-17:00".

    :raises ValueError: not two HH:MM times with the first before the second.
    """
    try:
        first, second = (time.fromisoformat(part.strip()) for part in value.split("-"))
    except ValueError:
        raise ValueError(f"business hours look like 08:00-17:00, not {value!r}") from None
    if first >= second:
        raise ValueError(f"business hours must open before they close, not {value!r}")
    return first, second


def parse_workdays(value: str) -> frozenset[int]:
    """Parse working weekdays such as "mon-fri" or "mon,tue,wed,thu,fri,sat".

    :raises ValueError: an unknown day name, or no day at all.
    """
    days: set[int] = set()
    for part in value.lower().replace(" ", "").split(","):
        if not part:
            continue
        first, _, last = part.partition("-")
        try:
            lo = WEEKDAYS.index(first[:3])
            hi = WEEKDAYS.index(last[:3]) if last else lo
        except ValueError:
            raise ValueError(f"business days look like mon-fri, not {value!r}") from None
        days.update(range(lo, hi + 1) if lo <= hi else [*range(lo, 7), *range(0, hi + 1)])
    if not days:
        raise ValueError("name at least one business day, e.g. mon-fri")
    return frozenset(days)

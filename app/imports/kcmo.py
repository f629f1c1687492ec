"""Kansas City's 311 export (data.kcmo.org "311 Call Center Service Requests").

- Times are Kansas City local time (America/Chicago). Older extracts split the opening time
  into CREATION DATE ("1/7/20") and CREATION TIME ("12:59 PM"); newer ones have one
  CREATION DATE/TIME column. CLOSED DATE is a date only: the case counts as closed at the
  start of that day, or when it opened if it closed the same day. Some resolved rows lack it
  but give DAYS TO CLOSE: they close that many days after they opened.
- There is no due time, only a yes/no EXCEEDED EST TIMEFRAME flag (kept in the event), so
  the type's SLA gives the due time.
- STATUS RESOL is closed (fixed); DUP duplicate; CANC cancelled (no action needed); OPEN and
  the other working states stay open.
- ADDRESS WITH GEOCODE holds embedded newlines, which the csv module reads as one field.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from app.imports.rows import (
    CityRow,
    Format,
    RowError,
    closed_time,
    coordinates,
    parse_time,
    required_text,
    text,
)

TZ = ZoneInfo("America/Chicago")
DATE_FORMATS = ("%m/%d/%y", "%m/%d/%Y", "%Y-%m-%d")
TIME_FORMATS = (
    "%m/%d/%y %I:%M %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
)
CLOSED = {"resol": "fixed", "dup": "duplicate", "canc": "no_action_needed"}
OPEN = ("open", "assign", "assigned", "hold", "pend", "in progress", "investigating")
CHANNELS = {
    "phone": "phone",
    "web": "web",
    "email": "email",
    "twir": "social",
    "twitter": "social",
    "bot": "web",
    "walk": "walk_in",
    "app": "mobile",
    "mobile": "mobile",
}
REQUIRED = (
    "case id",
    "source",
    "department",
    "category",
    "type",
    "detail",
    "creation date",
    "status",
    "closed date",
    "street address",
    "latitude",
    "longitude",
)


def opened_at(row: dict[str, str]) -> datetime:
    if text(row, "creation date/time"):
        moment = parse_time(row, "creation date/time", TZ, TIME_FORMATS)
    else:
        day, clock = required_text(row, "creation date"), text(row, "creation time")
        moment = parse_time({"creation date": f"{day} {clock}"}, "creation date", TZ, TIME_FORMATS)
    assert moment is not None
    return moment


def parse(row: dict[str, str]) -> CityRow:
    opened = opened_at(row)
    status = required_text(row, "status").lower()
    if status not in CLOSED and status not in OPEN:
        raise RowError(f"status {status!r} is not one this format knows")
    closed_at = parse_time(row, "closed date", TZ, DATE_FORMATS)
    days = text(row, "days to close")
    if closed_at is None and days.isdigit():
        closed_at = opened + timedelta(days=int(days))
    closed = closed_time(status in CLOSED, closed_at, "closed date", opened)
    lat, long = coordinates(row, "latitude", "longitude")
    channel = text(row, "source")
    return CityRow(
        case_id=required_text(row, "case id"),
        service_name=required_text(row, "type"),
        department_code="",
        department_name=required_text(row, "department"),
        requested_at=opened,
        lat=lat,
        long=long,
        description=text(row, "request type") or text(row, "type"),
        address=text(row, "street address"),
        group=text(row, "category"),
        closed_at=closed,
        closure_reason=CLOSED[status] if closed else None,
        channel=CHANNELS.get(channel.lower(), "other") if channel else "import",
        source={
            "source_channel": channel,
            "source_status": text(row, "status"),
            "exceeded_timeframe": text(row, "exceeded est timeframe"),
        },
    )


FORMAT = Format(
    name="kcmo",
    source="kcmo",
    timezone=TZ,
    required=REQUIRED,
    parse=parse,
    description="Kansas City 311 (data.kcmo.org, CASE ID … LONGITUDE), America/Chicago",
)

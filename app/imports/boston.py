"""Boston's 311 export (Analyze Boston "311 Service Requests", the 2011-era columns).

- Times are Boston local time without an offset; target_dt is the SLA due time.
- 8% of rows carry City Hall's coordinates (42.3594, -71.0587) as a placeholder for "no
  location": they are kept with the location unknown.
- `department` is a code (PWDx, ISD, …); `subject` names the department.
- case_status is Closed or Open; closure_reason is free text starting "Case Closed", mapped by
  its words (rows.closure_from_words).
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from app.imports.rows import (
    CityRow,
    Format,
    RowError,
    closed_time,
    closure_from_words,
    coordinates,
    parse_time,
    required_text,
    required_time,
    text,
)

TZ = ZoneInfo("America/New_York")
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%m/%d/%Y %I:%M:%S %p")
#: the point Boston's old system wrote when it had none
CITY_HALL = (42.3594, -71.0587)
CHANNELS = {
    "constituent call": "phone",
    "self service": "web",
    "citizens connect app": "mobile",
    "employee generated": "staff",
    "maximo integration": "api",
    "twitter": "social",
    "email": "email",
}
REQUIRED = (
    "case_enquiry_id",
    "open_dt",
    "target_dt",
    "closed_dt",
    "case_status",
    "closure_reason",
    "case_title",
    "subject",
    "reason",
    "type",
    "department",
    "location",
    "latitude",
    "longitude",
    "source",
)


def is_placeholder(lat: float, long: float) -> bool:
    return (round(lat, 4), round(long, 4)) == CITY_HALL


def closure_note(words: str) -> str:
    return re.sub(r"^Case Closed\.?\s*", "", words)[:2000]


def parse(row: dict[str, str]) -> CityRow:
    opened = required_time(row, "open_dt", TZ, TIME_FORMATS)
    status = required_text(row, "case_status").lower()
    if status not in ("open", "closed"):
        raise RowError(f"case_status {status!r} is neither Open nor Closed")
    closed = closed_time(
        status == "closed", parse_time(row, "closed_dt", TZ, TIME_FORMATS), "closed_dt", opened
    )
    lat, long = coordinates(row, "latitude", "longitude")
    words = text(row, "closure_reason")
    channel = text(row, "source")
    return CityRow(
        case_id=required_text(row, "case_enquiry_id"),
        service_name=required_text(row, "type"),
        department_code=required_text(row, "department"),
        department_name=text(row, "subject"),
        requested_at=opened,
        lat=None if is_placeholder(lat, long) else lat,
        long=None if is_placeholder(lat, long) else long,
        description=text(row, "case_title"),
        address=text(row, "location"),
        group=text(row, "reason"),
        due_at=parse_time(row, "target_dt", TZ, TIME_FORMATS),
        closed_at=closed,
        closure_reason=closure_from_words(words) if closed else None,
        closure_note=closure_note(words) if closed else "",
        channel=CHANNELS.get(channel.lower(), "other") if channel else "import",
        source={"source_channel": channel, "source_status": text(row, "case_status")},
    )


FORMAT = Format(
    name="boston",
    source="boston",
    timezone=TZ,
    required=REQUIRED,
    parse=parse,
    description="Boston 311 (Analyze Boston, case_enquiry_id … source), America/New_York",
)

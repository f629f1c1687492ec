"""New York City's 311 export (NYC Open Data "311 Service Requests from 2010 to Present").

- Times are New York local time, "03/02/2011 01:26:48 PM"; Due Date is the SLA due time.
- Agency is a code (NYPD, DOT, …) and Agency Name its name; Complaint Type is the type.
- Status Closed is closed (at Closed Date); Open, Pending, Assigned, Started stay open.
  Resolution Description, where the export has it, gives the closure reason by its words.
- Open Data Channel Type (PHONE, ONLINE, MOBILE, OTHER, UNKNOWN) is absent in older extracts.
- Latitude/Longitude are blank for about a third of older rows: the location is unknown.
"""

from __future__ import annotations

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
TIME_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S")
CHANNELS = {"phone": "phone", "online": "web", "mobile": "mobile", "other": "other"}
OPEN = ("open", "pending", "assigned", "started", "in progress", "unspecified")
REQUIRED = (
    "unique key",
    "created date",
    "closed date",
    "agency",
    "agency name",
    "complaint type",
    "descriptor",
    "incident address",
    "status",
    "due date",
    "latitude",
    "longitude",
)


def parse(row: dict[str, str]) -> CityRow:
    opened = required_time(row, "created date", TZ, TIME_FORMATS)
    status = required_text(row, "status").lower()
    if status != "closed" and status not in OPEN:
        raise RowError(f"status {status!r} is not one this format knows")
    closed = closed_time(
        status == "closed",
        parse_time(row, "closed date", TZ, TIME_FORMATS),
        "closed date",
        opened,
    )
    lat, long = coordinates(row, "latitude", "longitude")
    words = text(row, "resolution description")
    channel = text(row, "open data channel type")
    address = text(row, "incident address") or " & ".join(
        v for v in (text(row, "intersection street 1"), text(row, "intersection street 2")) if v
    )
    return CityRow(
        case_id=required_text(row, "unique key"),
        service_name=required_text(row, "complaint type"),
        department_code=required_text(row, "agency"),
        department_name=text(row, "agency name"),
        requested_at=opened,
        lat=lat,
        long=long,
        description=text(row, "descriptor"),
        address=address,
        due_at=parse_time(row, "due date", TZ, TIME_FORMATS),
        closed_at=closed,
        closure_reason=closure_from_words(words) if closed else None,
        closure_note=words[:2000] if closed else "",
        # "UNKNOWN" says as little as a missing column
        channel=CHANNELS.get(channel.lower(), "import") if channel else "import",
        source={"source_channel": channel, "source_status": text(row, "status")},
    )


FORMAT = Format(
    name="nyc",
    source="nyc",
    timezone=TZ,
    required=REQUIRED,
    parse=parse,
    description="NYC 311 (NYC Open Data, Unique Key … Longitude), America/New_York",
)

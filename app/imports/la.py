"""Los Angeles's MyLA311 export (data.lacity.org "MyLA311 Service Request Data").

- Times are Los Angeles local time: "12/31/2017 11:59:58 PM" in the 2017–2019 extracts,
  "2020-01-01 00:05:00" (with lower-case column names) from 2020. ClosedDate is often a
  date at midnight; a case closed at midnight of the day it opened counts as closed then.
- There is no SLA due time (ServiceDate is a scheduled visit): the type's SLA gives it.
- Owner is the department's code (BOS, OCB, …); RequestType the type.
- Status Closed is closed (fixed), Cancelled closed (no action needed), Referred Out closed
  (referred); Open and Pending stay open. A cancelled case without ClosedDate closes at its
  UpdatedDate.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from app.imports.rows import (
    CityRow,
    Format,
    RowError,
    closed_time,
    coordinates,
    parse_time,
    required_text,
    required_time,
    text,
)

TZ = ZoneInfo("America/Los_Angeles")
TIME_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f")
CLOSED = {"closed": "fixed", "cancelled": "no_action_needed", "referred out": "referred"}
OPEN = ("open", "pending", "in progress", "forward")
CHANNELS = {
    "call": "phone",
    "voicemail": "phone",
    "mobile app": "mobile",
    "self service": "web",
    "driver self report": "staff",
    "email": "email",
    "walk-in": "walk_in",
    "twitter": "social",
}
#: the city's names of the departments its export names by code
DEPARTMENTS = {
    "BOS": "Bureau of Sanitation",
    "LASAN": "LA Sanitation",
    "OCB": "Office of Community Beautification",
    "BSL": "Bureau of Street Lighting",
    "BSS": "Bureau of Street Services",
    "ITA": "Information Technology Agency",
    "LADWP": "Department of Water and Power",
}
REQUIRED = (
    "srnumber",
    "createddate",
    "updateddate",
    "owner",
    "requesttype",
    "status",
    "requestsource",
    "closeddate",
    "address",
    "latitude",
    "longitude",
)


def parse(row: dict[str, str]) -> CityRow:
    opened = required_time(row, "createddate", TZ, TIME_FORMATS)
    status = required_text(row, "status").lower()
    if status not in CLOSED and status not in OPEN:
        raise RowError(f"status {status!r} is not one this format knows")
    closed_at = parse_time(row, "closeddate", TZ, TIME_FORMATS)
    if closed_at is None and status == "cancelled":
        closed_at = parse_time(row, "updateddate", TZ, TIME_FORMATS)
    closed = closed_time(status in CLOSED, closed_at, "closeddate", opened)
    lat, long = coordinates(row, "latitude", "longitude")
    owner = required_text(row, "owner")
    channel = text(row, "requestsource")
    return CityRow(
        case_id=required_text(row, "srnumber"),
        service_name=required_text(row, "requesttype"),
        department_code=owner,
        department_name=DEPARTMENTS.get(owner.upper(), owner),
        requested_at=opened,
        lat=lat,
        long=long,
        description=text(row, "requesttype"),
        address=text(row, "address"),
        closed_at=closed,
        closure_reason=CLOSED[status] if closed else None,
        channel=CHANNELS.get(channel.lower(), "other") if channel else "import",
        source={"source_channel": channel, "source_status": text(row, "status")},
    )


FORMAT = Format(
    name="la",
    source="la",
    timezone=TZ,
    required=REQUIRED,
    parse=parse,
    description="Los Angeles MyLA311 (data.lacity.org, SRNumber … Longitude), America/Los_Angeles",
)

"""Open data: every request as a row anyone may download, with nothing that points to a person.

What is published is a fixed list of columns (`COLUMNS`): no name, email, phone, device or
account id, no description, address or note (free text can hold anything a resident typed),
and for service types marked sensitive the location generalised by `geo.privacy`. Counts by
district, service type and month leave out (suppress) every cell with fewer than
OPEN_DATA_MIN_CELL requests, so that a rare type in a small district cannot be tied to the
household that reported it.

Rows are read with a server-side cursor and written out as they come, so an export of
millions of requests takes the same memory as one of ten.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import text

from app.core.clock import city_tz
from app.core.errors import DomainError
from app.extensions import db
from app.geo.privacy import public_point

#: the published columns, in order; the README's open-data section documents each
COLUMNS = (
    "service_request_id",
    "service_code",
    "service_name",
    "department",
    "status",
    "requested_datetime",
    "due_datetime",
    "closed_datetime",
    "closure_reason",
    "closed_within_sla",
    "channel",
    "district_code",
    "district_name",
    "lat",
    "long",
    "location_generalised",
)
AGGREGATE_COLUMNS = (
    "month",
    "district_code",
    "district_name",
    "service_code",
    "service_name",
    "requests",
    "closed",
    "closed_within_sla",
    "suppressed",
)
STATUSES = ("open", "closed")
#: rows fetched from the server-side cursor at a time
_BATCH = 2000


@dataclass(frozen=True)
class Filters:
    """Which requests an export holds: made on days `start`..`end` (city time), inclusive."""

    start: date | None = None
    end: date | None = None
    service_code: str | None = None
    district: str | None = None
    status: str | None = None


def parse_filters(args: dict[str, str]) -> Filters:
    """Read the query string of an export.

    :raises DomainError: a date that is not YYYY-MM-DD, from after to, an unknown service
        code, district or status (400, saying which).
    """
    start, end = _day(args, "from"), _day(args, "to")
    if start and end and start > end:
        raise DomainError(f"from ({start}) is after to ({end}).", field="from")
    status = args.get("status") or None
    if status is not None and status not in STATUSES:
        raise DomainError(f"status must be open or closed, not {status!r}.", field="status")
    code = args.get("service_code") or None
    if code is not None and not _exists("SELECT 1 FROM service_types WHERE code = :v", code):
        raise DomainError(f"There is no service type with code {code!r}.", field="service_code")
    district = args.get("district") or None
    if district is not None and not _exists("SELECT 1 FROM districts WHERE code = :v", district):
        raise DomainError(f"There is no district with code {district!r}.", field="district")
    return Filters(start, end, code, district, status)


def _day(args: dict[str, str], name: str) -> date | None:
    value = args.get(name) or None
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise DomainError(
            f"{name} must be a date as YYYY-MM-DD, not {value!r}.", field=name
        ) from None
    if not 1900 <= day.year <= 2199:
        raise DomainError(f"{name} must be a date between 1900 and 2199.", field=name)
    return day


def _exists(sql: str, value: str) -> bool:
    return db.session.execute(text(sql), {"v": value}).first() is not None


def _where(filters: Filters) -> tuple[str, dict[str, Any]]:
    """Return the WHERE clause (on sr, st, dist) and its parameters."""
    clauses: list[str] = ["true"]
    params: dict[str, Any] = {}
    tz = city_tz()
    if filters.start is not None:
        clauses.append("sr.requested_at >= :start")
        params["start"] = datetime.combine(filters.start, time.min, tz)
    if filters.end is not None:
        clauses.append("sr.requested_at < :end")
        params["end"] = datetime.combine(filters.end + timedelta(days=1), time.min, tz)
    if filters.service_code is not None:
        clauses.append("st.code = :service_code")
        params["service_code"] = filters.service_code
    if filters.district is not None:
        clauses.append("dist.code = :district")
        params["district"] = filters.district
    if filters.status == "open":
        clauses.append("sr.status <> 'closed'")
    elif filters.status == "closed":
        clauses.append("sr.status = 'closed'")
    return " AND ".join(clauses), params


_ROWS = """
    SELECT sr.id, st.code, st.name, st.sensitive, d.name AS department, sr.status,
           sr.requested_at, sr.due_at, sr.closed_at, sr.closure_reason, sr.channel,
           dist.code AS district_code, dist.name AS district_name,
           ST_Y(sr.location) AS lat, ST_X(sr.location) AS long
    FROM service_requests sr
    JOIN service_types st ON st.id = sr.service_type_id
    JOIN departments d ON d.id = sr.department_id
    LEFT JOIN districts dist ON dist.id = sr.district_id
    WHERE {where}
    ORDER BY sr.id
"""


def rows(filters: Filters) -> Iterator[dict[str, Any]]:
    """Yield the published record of each request the filters select, oldest first."""
    where, params = _where(filters)
    result = db.session.execute(
        text(_ROWS.format(where=where)).execution_options(
            stream_results=True, max_row_buffer=_BATCH
        ),
        params,
    )
    tz = city_tz()
    for row in result:
        yield _record(row, tz)


def _record(row: Any, tz: Any) -> dict[str, Any]:
    if row.lat is None:  # imported history may have no usable location
        lat = long = None
    else:
        lat, long = public_point(row.lat, row.long, sensitive=row.sensitive)
    closed = row.closed_at
    return {
        "service_request_id": row.id,
        "service_code": row.code,
        "service_name": row.name,
        "department": row.department,
        "status": row.status,
        "requested_datetime": row.requested_at.astimezone(tz).isoformat(),
        "due_datetime": row.due_at.astimezone(tz).isoformat() if row.due_at else None,
        "closed_datetime": closed.astimezone(tz).isoformat() if closed else None,
        "closure_reason": row.closure_reason,
        "closed_within_sla": (closed <= row.due_at) if closed and row.due_at else None,
        "channel": row.channel,
        "district_code": row.district_code,
        "district_name": row.district_name,
        "lat": lat,
        "long": long,
        "location_generalised": bool(row.sensitive),
    }


def csv_chunks(records: Iterable[dict[str, Any]], columns: tuple[str, ...]) -> Iterator[str]:
    """Yield a CSV document (header first) in pieces of about _BATCH rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for n, record in enumerate(records, 1):
        writer.writerow(["" if record[c] is None else _csv_value(record[c]) for c in columns])
        if n % _BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _csv_value(value: Any) -> Any:
    return str(value).lower() if isinstance(value, bool) else value


def geojson_chunks(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    """Yield a GeoJSON FeatureCollection; a request with no location has a null geometry."""
    yield '{"type":"FeatureCollection","features":['
    parts: list[str] = []
    for n, record in enumerate(records):
        props = {k: v for k, v in record.items() if k not in ("lat", "long")}
        geometry = (
            None
            if record["lat"] is None
            else {"type": "Point", "coordinates": [record["long"], record["lat"]]}
        )
        feature = {"type": "Feature", "geometry": geometry, "properties": props}
        parts.append(("," if n else "") + json.dumps(feature, separators=(",", ":")))
        if len(parts) >= _BATCH:
            yield "".join(parts)
            parts.clear()
    yield "".join(parts) + "]}"


_AGGREGATES = """
    SELECT to_char(date_trunc('month', sr.requested_at AT TIME ZONE :tz), 'YYYY-MM') AS month,
           dist.code AS district_code, dist.name AS district_name,
           st.code AS service_code, st.name AS service_name,
           count(*) AS requests,
           count(*) FILTER (WHERE sr.status = 'closed') AS closed,
           count(*) FILTER (WHERE sr.closed_at <= sr.due_at) AS closed_within_sla
    FROM service_requests sr
    JOIN service_types st ON st.id = sr.service_type_id
    LEFT JOIN districts dist ON dist.id = sr.district_id
    WHERE {where}
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2 NULLS LAST, 4
"""


def aggregates(filters: Filters) -> Iterator[dict[str, Any]]:
    """Yield requests, closures and on-time closures per month, district and service type.

    A cell of fewer than OPEN_DATA_MIN_CELL requests keeps its keys but publishes no
    figures (suppressed = true).
    """
    where, params = _where(filters)
    minimum = int(current_app.config["OPEN_DATA_MIN_CELL"])
    result = db.session.execute(
        text(_AGGREGATES.format(where=where)).execution_options(
            stream_results=True, max_row_buffer=_BATCH
        ),
        {**params, "tz": current_app.config["CITY_TIMEZONE"]},
    )
    for row in result:
        cell = dict(row._mapping)
        suppressed = cell["requests"] < minimum
        if suppressed:
            cell.update(requests=None, closed=None, closed_within_sla=None)
        cell["suppressed"] = suppressed
        yield cell

"""Bulk import of historical service requests, kept with their own timestamps.

This is the requests feature's own write path for data that already happened elsewhere (a
city's old system, an open-data export). It does not go through `service.submit_request`
row by row: rows are copied into a staging table, routed to districts with one spatial join,
and written with their 'created' and 'closed' events in a few INSERT … SELECT statements.

A row without a usable point (none, 0/0, or outside every district) is kept with its location
unknown and no district: the city counted it, so the figures must too. A row whose case number
its source system already stored here is skipped, so importing an export twice adds nothing.

No signals are sent and nothing is enqueued: history owes nobody a receipt or a notice.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import psycopg
from sqlalchemy import select, text

from app.core.errors import DomainError
from app.extensions import db
from app.geo.routing import covering_district_sql, routing_kind
from app.org.models import Department
from app.requests.models import CHANNELS, CLOSURE_REASONS, ServiceType
from app.requests.routing import rule_sql
from app.requests.service import compute_due_at


@dataclass
class HistoricalRequest:
    """One request as another system recorded it. Times must be timezone-aware."""

    service_code: str
    description: str
    #: None when the source had no usable point: the location is then unknown
    lat: float | None
    long: float | None
    requested_at: datetime
    #: the department that handled it then; defaults to where the routing rules send the
    #: type in the request's district, else the type's department
    department_code: str | None = None
    address: str = ""
    #: the SLA due time recorded then; defaults to requested_at + the type's SLA
    due_at: datetime | None = None
    closed_at: datetime | None = None
    closure_reason: str | None = None
    closure_note: str = ""
    channel: str = "import"
    #: the system the row came from and its case number there (unique together); None for
    #: rows that are not history (a replay of live requests): they must have a location
    import_source: str | None = "history"
    external_id: str | None = None
    #: more about where the row came from, kept in the 'created' event (e.g. its raw status)
    source: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportResult:
    imported: int
    #: stored with the location unknown: no point, 0/0, or outside every district
    unlocated: int
    #: skipped: their source system's case number was imported before, or (rows that are
    #: not history) outside every district
    skipped: int
    #: ids of the stored requests, in input order
    ids: list[int]


_STAGING_COLUMNS = (
    "seq",
    "service_type_id",
    "department_id",
    "description",
    "lat",
    "long",
    "address",
    "channel",
    "requested_at",
    "due_at",
    "closed_at",
    "closure_reason",
    "closure_note",
    "department_code",
    "source",
    "use_rule",
    "import_source",
    "external_id",
)

_CREATE_STAGING = """
    DROP TABLE IF EXISTS import_staging;
    CREATE TEMP TABLE import_staging (
        seq integer PRIMARY KEY,
        service_type_id integer NOT NULL,
        department_id integer NOT NULL,
        description text NOT NULL,
        lat double precision,
        long double precision,
        address text NOT NULL,
        channel text NOT NULL,
        requested_at timestamptz NOT NULL,
        due_at timestamptz NOT NULL,
        closed_at timestamptz,
        closure_reason text,
        closure_note text NOT NULL,
        department_code text NOT NULL,
        source jsonb NOT NULL,
        use_rule boolean NOT NULL,
        import_source text,
        external_id text,
        geom geometry(Point, 4326),
        district_id integer,
        rule_id integer,
        crew_id integer,
        id bigint
    ) ON COMMIT DROP
"""

_SKIP_KNOWN = """
    DELETE FROM import_staging s USING service_requests r
    WHERE r.import_source = s.import_source AND r.external_id = s.external_id;
    -- a case number given twice: the first row counts
    DELETE FROM import_staging s USING import_staging t
    WHERE s.import_source = t.import_source AND s.external_id = t.external_id AND s.seq > t.seq;
"""
# Each point takes the first district (by id) that covers it, as intake does; a point outside
# every district is no place the city serves, so it counts as an unknown location.
_ROUTE = f"""
    UPDATE import_staging s SET
        geom = ST_SetSRID(ST_MakePoint(s.long, s.lat), 4326),
        district_id = (
            SELECT id FROM ({
    covering_district_sql("ST_SetSRID(ST_MakePoint(s.long, s.lat), 4326)", "%(kind)s")
}) covering
        )
    WHERE s.lat IS NOT NULL
"""
_UNLOCATED = """
    DELETE FROM import_staging WHERE district_id IS NULL AND import_source IS NULL;
    UPDATE import_staging SET geom = NULL WHERE district_id IS NULL
"""
# Rows that name no department of their own go where intake would send them today: by the
# routing rule for their type and district, if there is one (the same SQL as intake's).
_APPLY_RULES = f"""
    UPDATE import_staging s SET
        rule_id = rule.id,
        department_id = rule.department_id,
        department_code = rule.department_code,
        crew_id = rule.crew_id
    FROM import_staging t CROSS JOIN LATERAL ({rule_sql("t.service_type_id", "t.district_id")}) rule
    WHERE t.seq = s.seq AND t.use_rule AND t.district_id IS NOT NULL
"""
_NUMBER = """
    -- numbered in input order, so that ids follow the order the rows came in
    UPDATE import_staging s SET id = n.id
    FROM (
        SELECT o.seq, nextval(pg_get_serial_sequence('service_requests', 'id')) AS id
        FROM (SELECT seq FROM import_staging ORDER BY seq) o
    ) n
    WHERE s.seq = n.seq;
"""

_INSERT = """
    INSERT INTO service_requests (
        id, service_type_id, department_id, district_id, description, location, address,
        status, channel, requested_at, acknowledged_at, due_at, closed_at, closure_reason,
        closure_note, updated_at, crew_id, import_source, external_id
    )
    SELECT id, service_type_id, department_id, district_id, description, geom, address,
           CASE WHEN closed_at IS NULL THEN 'new' ELSE 'closed' END, channel, requested_at,
           closed_at, due_at, closed_at, closure_reason, closure_note,
           COALESCE(closed_at, requested_at), crew_id, import_source, external_id
    FROM import_staging ORDER BY seq;

    INSERT INTO request_events (request_id, kind, at, to_status, public, data)
    SELECT id, 'created', requested_at, 'new', true,
           jsonb_build_object('channel', channel, 'department', department_code,
                              'imported', true)
           || jsonb_strip_nulls(jsonb_build_object('routing_rule_id', rule_id, 'crew_id', crew_id))
           || source
    FROM import_staging ORDER BY seq;

    INSERT INTO request_events (request_id, kind, at, from_status, to_status, note, public, data)
    SELECT id, 'closed', closed_at, 'new', 'closed', closure_note, true,
           jsonb_build_object('reason', closure_reason, 'imported', true)
    FROM import_staging WHERE closed_at IS NOT NULL ORDER BY seq;
"""


def import_requests(rows: Iterable[HistoricalRequest], *, analyze: bool = True) -> ImportResult:
    """Store historical requests with their events; skip those imported before.

    Validates every row before writing anything, so a bad row stores nothing. Flushes the
    session first and writes on its connection; the caller commits. `analyze=False` leaves
    the planner statistics to a caller that imports many batches and analyses once.

    :raises DomainError: a row names an unknown service type, department, channel or
        closure reason, or has naive or inconsistent times.
    """
    session = db.session
    session.flush()
    types = {st.code: st for st in session.scalars(select(ServiceType))}
    departments = {
        code: id_ for code, id_ in session.execute(select(Department.code, Department.id))
    }
    department_codes = {v: k for k, v in departments.items()}

    staged: list[tuple[Any, ...]] = []
    for seq, row in enumerate(rows):
        staged.append(_stage(seq, row, types, departments, department_codes))
    if not staged:
        return ImportResult(imported=0, unlocated=0, skipped=0, ids=[])

    # COPY is psycopg's own; the app's engine always uses it (DATABASE_URL's +psycopg)
    raw = cast(psycopg.Connection[Any], session.connection().connection.driver_connection)
    kind = routing_kind()
    with raw.cursor() as cur:
        cur.execute(_CREATE_STAGING)
        columns = ", ".join(_STAGING_COLUMNS)
        with cur.copy(f"COPY import_staging ({columns}) FROM STDIN") as copy:
            for values in staged:
                copy.write_row(values)
        cur.execute(_SKIP_KNOWN)
        cur.execute(_ROUTE, {"kind": kind})
        cur.execute(_UNLOCATED)
        cur.execute(_APPLY_RULES)
        cur.execute(_NUMBER)
        cur.execute(_INSERT)
        cur.execute("SELECT id, geom IS NULL FROM import_staging ORDER BY seq")
        stored = cur.fetchall()
        cur.execute("DROP TABLE import_staging")
    if analyze:
        analyze_history()
    ids = [r[0] for r in stored]
    return ImportResult(
        imported=len(ids),
        unlocated=sum(1 for r in stored if r[1]),
        skipped=len(staged) - len(ids),
        ids=ids,
    )


def analyze_history() -> None:
    """Refresh the planner statistics of the tables an import fills.

    Without them the planner keeps guessing from the table's old size (and may JIT-compile
    a 5 ms query for hundreds of ms); it commits with the rows.
    """
    db.session.execute(text("ANALYZE service_requests, request_events"))


def usable_point(lat: float | None, long: float | None) -> tuple[float, float] | None:
    """Return (lat, long) if it can be a place, else None: absent, 0/0 (a device or export
    with no fix writes zeros), not finite, or out of range."""
    if lat is None or long is None:
        return None
    lat, long = float(lat), float(long)
    if not (math.isfinite(lat) and math.isfinite(long)):
        return None
    if not (-90 <= lat <= 90 and -180 <= long <= 180) or (lat == 0 and long == 0):
        return None
    return lat, long


def _stage(
    seq: int,
    row: HistoricalRequest,
    types: dict[str, ServiceType],
    departments: dict[str, int],
    department_codes: dict[int, str],
) -> tuple[Any, ...]:
    where = f"row {seq + 1}"
    st = types.get(row.service_code)
    if st is None:
        raise DomainError(f"{where}: unknown service code {row.service_code!r}.")
    if row.department_code is None:
        department_id = st.department_id
    elif row.department_code in departments:
        department_id = departments[row.department_code]
    else:
        raise DomainError(f"{where}: unknown department {row.department_code!r}.")
    if row.channel not in CHANNELS:
        raise DomainError(f"{where}: unknown channel {row.channel!r}.")
    for name in ("requested_at", "due_at", "closed_at"):
        moment = getattr(row, name)
        if moment is not None and moment.tzinfo is None:
            raise DomainError(f"{where}: {name} must carry a timezone.")
    reason = row.closure_reason
    if row.closed_at is None:
        reason = None
    elif reason not in CLOSURE_REASONS:
        raise DomainError(f"{where}: a closed request needs a reason among {CLOSURE_REASONS}.")
    description = (row.description or "").strip() or st.name
    point = usable_point(row.lat, row.long)
    if row.external_id is not None and not row.external_id.strip():
        raise DomainError(f"{where}: an empty case number.")
    if row.import_source is None and row.external_id is not None:
        raise DomainError(f"{where}: a case number needs the system it came from.")
    if row.import_source is None and point is None:
        raise DomainError(f"{where}: only history (with an import_source) may lack a place.")
    return (
        seq,
        st.id,
        department_id,
        description,
        point[0] if point else None,
        point[1] if point else None,
        (row.address or "").strip()[:400],
        row.channel,
        row.requested_at,
        row.due_at or compute_due_at(row.requested_at, st),
        row.closed_at,
        reason,
        row.closure_note or "",
        department_codes[department_id],
        json.dumps(row.source or {}, separators=(",", ":")),
        row.department_code is None,
        row.import_source,
        row.external_id.strip()[:100] if row.external_id is not None else None,
    )

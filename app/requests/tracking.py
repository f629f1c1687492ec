"""The public tracking page's request: what a resident may see of it, read in one statement.

Every web report lands on the tracking page and every receipt links to it, so in a storm
it is served about as often as intake. Through the ORM it took five statements (the
request with its type, department and district, the district's polygon among them; the
events; the report's photos; the session's BEGIN and ROLLBACK) and built an object for
every row. Here one statement, run in autocommit, returns one row with the public events
and the report's photos aggregated in it, and the rules of the public view are applied as
everywhere else: no reporter column is selected, a sensitive type's address is left out
and its point generalised (geo.privacy.public_point), internal events are not selected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text

from app.core.direct import fetch_row
from app.core.errors import NotFound
from app.geo.privacy import public_point
from app.requests.queries import photo_order


@dataclass(frozen=True)
class PublicEvent:
    """One step of the public history."""

    kind: str
    to_status: str | None
    at: datetime
    note: str


@dataclass(frozen=True)
class TrackedRequest:
    """A request as its public tracking page shows it."""

    id: int
    status: str
    service_name: str
    department_name: str
    district_name: str | None
    description: str
    #: empty for a sensitive type: the address would pinpoint it
    address: str
    #: generalised for a sensitive type; None for imported history without a location
    lat: float | None
    long: float | None
    requested_at: datetime
    due_at: datetime
    acknowledged_at: datetime | None
    closed_at: datetime | None
    closure_reason: str | None
    closure_note: str | None
    #: public events, oldest first
    events: tuple[PublicEvent, ...]
    #: (photo id, kind): the report's, then each fix's ("after") and each public note's
    photos: tuple[tuple[int, str], ...]


# the reporter's columns are deliberately absent: nothing below can leak them
_TRACKED = text("""
    SELECT sr.id, sr.status, st.name, d.name, dist.name, sr.description,
           CASE WHEN st.sensitive THEN '' ELSE sr.address END,
           ST_Y(sr.location), ST_X(sr.location), st.sensitive,
           sr.requested_at, sr.due_at, sr.acknowledged_at, sr.closed_at,
           sr.closure_reason, sr.closure_note,
           (SELECT json_agg(json_build_array(e.kind, e.to_status, e.at, e.note,
                                             e.data->'photo_id', e.data->'photo_ids')
                            ORDER BY e.id)
              FROM request_events e
             WHERE e.request_id = sr.id AND e.public),
           ARRAY(SELECT ph.id FROM photos ph
                  WHERE ph.request_id = sr.id AND ph.kind = 'report' ORDER BY ph.id)
    FROM service_requests sr
    JOIN service_types st ON st.id = sr.service_type_id
    JOIN departments d ON d.id = sr.department_id
    LEFT JOIN districts dist ON dist.id = sr.district_id
    WHERE sr.id = :id
""")


def tracked_request(request_id: int) -> TrackedRequest:
    """Return what the public tracking page shows of a request.

    :raises NotFound: there is no such request.
    """
    row = fetch_row(_TRACKED, {"id": request_id}, alone=True)
    if row is None:
        raise NotFound(f"There is no service request {request_id}.")
    rid, status, service, department, district, description, address, lat, long = row[:9]
    sensitive, requested, due, acknowledged, closed, reason, closure_note = row[9:16]
    events, photos = _history(row[16] or [], row[17] or [])
    lat, long = public_point(lat, long, sensitive=sensitive)
    return TrackedRequest(
        id=rid,
        status=status,
        service_name=service,
        department_name=department,
        district_name=district,
        description=description,
        address=address or "",
        lat=lat,
        long=long,
        requested_at=requested,
        due_at=due,
        acknowledged_at=acknowledged,
        closed_at=closed,
        closure_reason=reason,
        closure_note=closure_note,
        events=events,
        photos=photos,
    )


def _history(
    rows: list[list[Any]], report_photos: list[int]
) -> tuple[tuple[PublicEvent, ...], tuple[tuple[int, str], ...]]:
    """Return the public events and the public photos (in queries.photo_order's order)."""
    # json_agg wrote each moment as ISO 8601 text with its offset
    events = tuple(
        PublicEvent(kind, to_status, datetime.fromisoformat(at), note)
        for kind, to_status, at, note, _, _ in rows
    )
    photos = photo_order(
        report_photos, ((True, photo_id, ids) for *_, photo_id, ids in rows), private=False
    )
    return events, tuple(photos)


_EXISTS = text("SELECT 1 FROM service_requests WHERE id = :id")


def request_exists(request_id: int) -> bool:
    """Tell whether there is a request of this number (tracked_request would find it).

    The home page's "track a request" box asks this before it redirects to the tracking
    page, which then reads the request: one primary-key lookup, not the page's read twice.
    """
    return fetch_row(_EXISTS, {"id": request_id}, alone=True) is not None

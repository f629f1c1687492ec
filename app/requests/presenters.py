"""What the API answers and the pages show of a request: URLs, coordinates and field dicts.

Shared by the JSON API and the HTML pages, so that both show one request the same way.
The dicts are for the marshmallow schemas named in each docstring, which choose the fields.
"""

from __future__ import annotations

from typing import Any, cast

from flask import current_app, has_request_context, url_for
from geoalchemy2.shape import to_shape
from shapely.geometry import Point

from app.geo.privacy import public_point
from app.requests import queries
from app.requests.models import ServiceRequest
from app.requests.queue import QueuePage


def public_url(path: str) -> str:
    """Return an absolute URL on the public site (PUBLIC_BASE_URL)."""
    return current_app.config["PUBLIC_BASE_URL"] + path


def public_url_for(endpoint: str, **values: Any) -> str:
    """Return the absolute public URL of `endpoint` (in a web request or a job).

    A job has no request to build URLs from; a test_request_context per URL cost a worker
    about 0.4 ms of CPU a link, so it builds from the URL map bound once per process.
    """
    if has_request_context():
        return public_url(url_for(endpoint, **values))
    adapter = current_app.extensions.get("city311_url_adapter")
    if adapter is None:
        adapter = current_app.url_map.bind(
            "localhost", script_name=current_app.config["APPLICATION_ROOT"]
        )
        current_app.extensions["city311_url_adapter"] = adapter
    return public_url(adapter.build(endpoint, values))


def tracking_url(request_id: int) -> str:
    """Return the public address of a request's tracking page (in a web request or a job)."""
    return public_url_for("requests.track", request_id=request_id)


def photo_urls(photo_id: int) -> dict[str, Any]:
    """Return the fields of PhotoOut: the photo's public display and thumbnail URLs."""
    return {
        "id": photo_id,
        "url": public_url(url_for("media.photo", photo_id=photo_id, size="display")),
        "thumbnail_url": public_url(url_for("media.photo", photo_id=photo_id, size="thumb")),
    }


def lat_long(sr: ServiceRequest) -> tuple[float, float] | tuple[None, None]:
    """Return the request's location as (latitude, longitude).

    (None, None) for imported history whose location is unknown: only imports may lack one.
    """
    if sr.location is None:
        return None, None
    point = cast(Point, to_shape(sr.location))  # location is a POINT column
    return point.y, point.x


def public_lat_long(sr: ServiceRequest) -> tuple[float, float] | tuple[None, None]:
    """Return the location the public sees: generalised when the type is sensitive."""
    lat, long = lat_long(sr)
    return public_point(lat, long, sensitive=sr.service_type.sensitive)


def public_address(sr: ServiceRequest) -> str:
    """Return the address the public sees: none for a sensitive type (it would pinpoint it)."""
    return "" if sr.service_type.sensitive else sr.address


def code_name(obj: Any) -> dict[str, str] | None:
    """Return the fields of CodeNameOut of a department, district or service type."""
    return {"code": obj.code, "name": obj.name} if obj is not None else None


def reporter(sr: ServiceRequest) -> dict[str, str]:
    """Return the fields of ReporterOut: private, for staff views only."""
    return {"name": sr.reporter_name, "email": sr.reporter_email, "phone": sr.reporter_phone}


def request_view(sr: ServiceRequest, *, staff: bool) -> dict[str, Any]:
    """Return the fields of a request for RequestPublicOut, or RequestStaffOut when staff."""
    lat, long = lat_long(sr) if staff else public_lat_long(sr)
    view: dict[str, Any] = {
        "id": sr.id,
        "status": sr.status,
        "service": code_name(sr.service_type),
        "description": sr.description,
        "lat": lat,
        "long": long,
        "address": sr.address if staff else public_address(sr),
        "department": code_name(sr.department),
        "district": code_name(sr.district),
        "requested_at": sr.requested_at,
        "acknowledged_at": sr.acknowledged_at,
        "due_at": sr.due_at,
        "closed_at": sr.closed_at,
        "closure_reason": sr.closure_reason,
        "closure_note": sr.closure_note,
        "history": queries.public_events(sr),
        "photos": [photo_urls(pid) for pid in queries.public_photo_ids(sr)],
    }
    if staff:
        view.update(
            reporter=reporter(sr),
            channel=sr.channel,
            attributes=sr.attributes,
            created_by_id=sr.created_by_id,
            events=list(sr.events),
        )
    return view


def queue_item(sr: ServiceRequest) -> dict[str, Any]:
    """Return the fields of a request for QueueItemOut."""
    lat, long = lat_long(sr)
    return {
        "id": sr.id,
        "service": code_name(sr.service_type),
        "description": sr.description,
        "address": sr.address,
        "lat": lat,
        "long": long,
        "district": code_name(sr.district),
        "status": sr.status,
        "requested_at": sr.requested_at,
        "due_at": sr.due_at,
        "overdue": sr.is_overdue,
        "reporter": reporter(sr),
    }


def queue_page_items(page: QueuePage) -> list[dict[str, Any]]:
    """Return the fields of QueueItemOut of each request on a queue page."""
    items = []
    for sr in page.items:
        item = queue_item(sr)
        crew = page.proposed_crews.get(sr.id)
        item.update(
            duplicates=page.duplicate_counts.get(sr.id, 0),
            proposed_crew={"id": crew.id, "name": crew.name} if crew else None,
            imported=sr.is_imported,
        )
        if sr.id in page.distances:
            item["distance_m"] = round(page.distances[sr.id], 1)
        items.append(item)
    return items


def list_item(sr: ServiceRequest) -> dict[str, Any]:
    """Return the fields of a request for RequestListItemOut."""
    return {
        "id": sr.id,
        "status": sr.status,
        "service": code_name(sr.service_type),
        "department": code_name(sr.department),
        "district": code_name(sr.district),
        "address": sr.address,
        "description": sr.description,
        "requested_at": sr.requested_at,
        "due_at": sr.due_at,
        "overdue": sr.is_overdue,
        "closure_reason": sr.closure_reason,
        "reporter": reporter(sr),
    }


def answered_questions(sr: ServiceRequest) -> list[tuple[str, str]]:
    """Return (question, answer) for the request's answers, in the type's question order."""
    questions = {q.get("code"): q for q in sr.service_type.attributes or []}
    order = {code: (q.get("order", 0), i) for i, (code, q) in enumerate(questions.items())}
    rows: list[tuple[tuple[int, int], str, str]] = []
    for code, value in (sr.attributes or {}).items():
        q = questions.get(code, {})
        label = q.get("description") or q.get("label") or code
        names = {str(v.get("key")): v.get("name") or str(v.get("key")) for v in q.get("values", [])}
        values = value if isinstance(value, list) else [value]
        answer = ", ".join(names.get(str(v), str(v)) for v in values)
        # answers to questions since removed from the type come last
        rows.append((order.get(code, (1 << 30, 0)), label, answer))
    return [(label, answer) for _, label, answer in sorted(rows, key=lambda r: r[0])]

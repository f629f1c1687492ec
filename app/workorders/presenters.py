"""What the work-order API and pages both show, and the photo upload they both read."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from flask import current_app, request, url_for

from app.core.clock import utcnow
from app.core.errors import DomainError
from app.extensions import db
from app.media import service as media
from app.org.models import Department
from app.requests.models import ServiceRequest
from app.requests.presenters import answered_questions, lat_long, photo_urls
from app.workorders import service
from app.workorders.models import WorkOrder


def photo_url(photo_id: int | None) -> str | None:
    """Return the absolute public URL of a photo's display size."""
    if photo_id is None:
        return None
    path = url_for("media.photo", photo_id=photo_id, size="display")
    return current_app.config["PUBLIC_BASE_URL"] + path


def request_item(sr: ServiceRequest, report_photo_ids: list[int]) -> dict[str, Any]:
    """Return the fields of WorkOrderRequestOut: a request as its crew needs it."""
    lat, long = lat_long(sr)
    return {
        "id": sr.id,
        "status": sr.status,
        "service_type": sr.service_type,
        "address": sr.address,
        "description": sr.description,
        "due_at": sr.due_at,
        "lat": lat,
        "long": long,
        "hold_reason": sr.hold_reason,
        "closure_reason": sr.closure_reason,
        "parent_id": sr.parent_id,
        "answers": [{"question": q, "answer": a} for q, a in answered_questions(sr)],
        "photos": [photo_urls(pid) for pid in report_photo_ids],
    }


def present(orders: list[WorkOrder]) -> list[dict[str, Any]]:
    """Turn work orders into what WorkOrderOut dumps, with one query per kind of photo."""
    photos = service.work_photo_ids(wo.id for wo in orders)
    reported = service.report_photo_ids({sr.id for wo in orders for sr in wo.requests})
    return [
        {
            "id": wo.id,
            "status": wo.status,
            "crew": wo.crew,
            "department": db.session.get(Department, wo.department_id),
            "instructions": wo.instructions,
            "priority": wo.priority,
            "scheduled_for": wo.scheduled_for,
            "request_ids": [sr.id for sr in wo.requests],
            "requests": [request_item(sr, reported[sr.id]) for sr in wo.requests],
            "assigned_at": wo.assigned_at,
            "started_at": wo.started_at,
            "completed_at": wo.completed_at,
            "completion_note": wo.completion_note,
            "labour_hours": wo.labour_hours,
            "materials": wo.materials or [],
            "photos": {
                kind: [photo_urls(pid) for pid in ids] for kind, ids in photos[wo.id].items()
            },
            # the latest "after" photo is the one the reporters were sent
            "photo_url": photo_url(photos[wo.id]["after"][-1] if photos[wo.id]["after"] else None),
        }
        for wo in orders
    ]


def present_crew_list(rows: list[tuple[WorkOrder, float | None]]) -> list[dict[str, Any]]:
    """Turn (order, metres away) rows into what CrewWorkOrderOut dumps."""
    items = present([wo for wo, _ in rows])
    for item, (_, metres) in zip(items, rows, strict=True):
        item["distance_m"] = None if metres is None else round(metres, 1)
    return items


def present_close_out(result: service.CloseOut) -> dict[str, Any]:
    """Turn a close-out into what CompletedOut dumps: the order and each request's outcome."""
    item = present([result.work_order])[0]
    item["outcomes"] = [o.as_dict() for o in result.outcomes]
    return item


def distance_words(metres: float | None) -> str:
    """Say a distance as a crew reads it: "350 m", "2.4 km"."""
    if metres is None:
        return ""
    if metres < 1000:
        return f"{round(metres / 10) * 10:.0f} m" if metres >= 100 else f"{metres:.0f} m"
    return f"{metres / 1000:.1f} km"


def age(moment: datetime | None, now: datetime | None = None) -> str:
    """Say how long ago a moment was, in the coarsest unit that fits ("3 d", "5 h")."""
    if moment is None:
        return ""
    seconds = max(0, int(((now or utcnow()) - moment).total_seconds()))
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} d"
    if seconds >= 3600:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min"


def uploaded_photos() -> list[media.ValidatedPhoto]:
    """Validate the `photo` files of a multipart request (the field repeated); [] for none."""
    return media.validate_uploads(request.files.getlist("photo"), field="photo")


def materials_field() -> object:
    """Read the API's `materials` form field: a JSON list; None when absent or blank.

    :raises DomainError: the field is not JSON (400).
    """
    raw = request.form.get("materials", "")
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise DomainError(
            'Materials must be a JSON list like [{"name": "cold patch", "quantity": 2, '
            '"unit": "bag"}].',
            field="materials",
        ) from None


def material_rows() -> list[dict[str, str]]:
    """Read the completion page's material rows (repeated name/quantity/unit fields)."""
    names = request.form.getlist("material_name")
    quantities = request.form.getlist("material_quantity")
    units = request.form.getlist("material_unit")
    rows = []
    for i, name in enumerate(names):
        quantity = quantities[i] if i < len(quantities) else ""
        unit = units[i] if i < len(units) else ""
        if name.strip() or quantity.strip() or unit.strip():  # a row left blank is not one
            rows.append({"name": name, "quantity": quantity, "unit": unit})
    return rows


def position() -> tuple[float, float] | None:
    """Return the (lat, long) a page was given as ?lat=&long=, or None if absent or bad."""
    try:
        lat, long = float(request.args["lat"]), float(request.args["long"])
    except (KeyError, ValueError):
        return None
    ok = math.isfinite(lat) and math.isfinite(long) and abs(lat) <= 90 and abs(long) <= 180
    return (lat, long) if ok else None

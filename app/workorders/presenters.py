"""What the work-order API and pages both show, and the photo upload they both read."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from flask import current_app, request, url_for
from geoalchemy2.shape import to_shape
from shapely.geometry import Point

from app.core.clock import utcnow
from app.extensions import db
from app.media import service as media
from app.org.models import Department
from app.requests.models import ServiceRequest
from app.workorders import service
from app.workorders.models import WorkOrder


def photo_url(photo_id: int | None) -> str | None:
    """Return the absolute public URL of a photo's display size."""
    if photo_id is None:
        return None
    path = url_for("media.photo", photo_id=photo_id, size="display")
    return current_app.config["PUBLIC_BASE_URL"] + path


def present(orders: list[WorkOrder]) -> list[dict[str, Any]]:
    """Turn work orders into what WorkOrderOut dumps, with one query for all photos."""
    photo_ids = service.completion_photo_ids(wo.id for wo in orders)
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
            "requests": wo.requests,
            "assigned_at": wo.assigned_at,
            "started_at": wo.started_at,
            "completed_at": wo.completed_at,
            "completion_note": wo.completion_note,
            "photo_url": photo_url(photo_ids.get(wo.id)),
        }
        for wo in orders
    ]


def location(sr: ServiceRequest) -> tuple[float, float]:
    """Return (lat, long) of a request."""
    point = cast(Point, to_shape(sr.location))  # location is a POINT column
    return point.y, point.x


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


def uploaded_photo() -> media.ValidatedPhoto | None:
    """Validate the `photo` file of a multipart request; None when no file was chosen."""
    upload = request.files.get("photo")
    if upload is None:
        return None
    # a browser with no file chosen still sends the part: no file name, no bytes
    if not upload.filename:
        if not upload.stream.read(1):
            return None
        upload.stream.seek(0)
    return media.validate_photo(upload.stream, field="photo")

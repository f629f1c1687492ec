"""Jobs of the media queue."""

from __future__ import annotations

from sqlalchemy import select

from app.core.queue import enqueue_now
from app.extensions import db
from app.media import service
from app.media.models import Photo


def make_derivatives(photo_id: int) -> None:
    """Make the public derivatives of one photo; a no-op when they exist."""
    photo = db.session.get(Photo, photo_id)
    if photo is None or photo.processed_at is not None:
        return
    service.make_derivatives(photo)
    db.session.commit()


def sweep_unprocessed(limit: int = 200) -> int:
    """Re-enqueue photos whose derivative job was lost (Redis down or flushed)."""
    ids = db.session.scalars(
        select(Photo.id).where(Photo.processed_at.is_(None)).order_by(Photo.id).limit(limit)
    ).all()
    for photo_id in ids:
        enqueue_now(make_derivatives, photo_id, queue="media", job_id=f"photo-{photo_id}")
    return len(ids)

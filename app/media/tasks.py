"""Jobs of the media queue."""

from __future__ import annotations

import logging

from sqlalchemy import select

from app.core.clock import utcnow
from app.core.queue import enqueue_now
from app.extensions import db
from app.media import service
from app.media.models import Photo
from app.media.storage import StorageUnavailable

log = logging.getLogger(__name__)


def make_derivatives(photo_id: int) -> None:
    """Make the public derivatives of one photo; a no-op when they exist or it has failed."""
    photo = db.session.get(Photo, photo_id)
    if photo is None or photo.processed_at is not None or photo.failed_at is not None:
        return
    if photo.attempts >= service.MAX_ATTEMPTS:
        # the earlier attempts died without a word (a worker killed mid-job, out of memory)
        _give_up(photo, "no attempt finished")
        return
    # counted before the work, so that an attempt that kills the worker still counts
    photo.attempts += 1
    db.session.commit()
    try:
        service.make_derivatives(photo)
    except StorageUnavailable:
        # the store failed, not the photo: an outage must not use up its attempts
        db.session.rollback()
        photo.attempts -= 1
        db.session.commit()
        raise  # the sweep tries again later
    except service.DerivativeError as exc:
        db.session.rollback()
        if photo.attempts >= service.MAX_ATTEMPTS:
            _give_up(photo, str(exc))
            return
        raise  # rq records the failure; the sweep tries again later
    db.session.commit()


def _give_up(photo: Photo, reason: str) -> None:
    photo.failed_at = utcnow()
    db.session.commit()
    log.warning("photo %s marked failed after %s attempts: %s", photo.id, photo.attempts, reason)


def sweep_unprocessed(limit: int = 200) -> int:
    """Re-enqueue photos whose derivative job was lost (Redis down or flushed, worker killed).

    Photos tried least come first and failed ones not at all, so a pile of bad uploads can
    never keep the sweep from reaching a good photo whose job was lost.
    """
    ids = db.session.scalars(
        select(Photo.id)
        .where(Photo.processed_at.is_(None), Photo.failed_at.is_(None))
        .order_by(Photo.attempts, Photo.id)
        .limit(limit)
    ).all()
    for photo_id in ids:
        enqueue_now(make_derivatives, photo_id, queue="media", job_id=f"photo-{photo_id}")
    return len(ids)


def delete_unattached() -> int:
    """Delete uploads attached to nothing for a day (see service.delete_unattached)."""
    removed = service.delete_unattached()
    db.session.commit()
    if removed:
        log.info("deleted %s unattached uploads", removed)
    return removed

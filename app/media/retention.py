"""Deleting the original uploads of old requests, keeping their public copies.

An original is the file as the resident's phone made it, GPS and camera metadata included;
the display and thumbnail copies carry pixels only, so they are what the record keeps.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from app.core.clock import utcnow
from app.extensions import db
from app.media import service
from app.media.models import Photo
from app.media.storage import get_storage


def drop_originals(request_ids: Sequence[int]) -> int:
    """Delete the stored originals of these requests' photos; return how many photos.

    A photo whose public copies are not made yet gets them first, since they are made from
    the original; one that cannot be made (or was given up on) is marked failed, as the
    derivative job would have, so that nothing tries to read the deleted original again.
    """
    if not request_ids:
        return 0
    photos = db.session.scalars(
        select(Photo).where(Photo.request_id.in_(request_ids)).order_by(Photo.id)
    ).all()
    storage = get_storage()
    for photo in photos:
        if photo.processed_at is None and photo.failed_at is None:
            try:
                service.make_derivatives(photo)
            except service.DerivativeError:
                photo.failed_at = utcnow()
        storage.delete(service.original_key(photo.stored_name))
    db.session.flush()
    return len(photos)

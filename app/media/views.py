"""Public photo serving: only the metadata-free derivatives, never the uploaded originals."""

from __future__ import annotations

from flask import Blueprint, redirect, send_file, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.core.errors import NotFound
from app.extensions import db
from app.media import service
from app.media.models import Photo

bp = Blueprint("media", __name__)

#: derivatives never change once written; a day keeps a later takedown effective soon enough
CACHE_SECONDS = 24 * 3600
#: what a client should wait before asking again for a photo the worker has not made yet
RETRY_AFTER_SECONDS = 5


def _to_placeholder(name: str) -> BaseResponse:
    # A redirect, not the placeholder itself: a URL ending in .jpg must never answer 200
    # with anything but that JPEG, or a client that saves it keeps the placeholder.
    response = redirect(url_for("static", filename=f"media/{name}.svg"), code=302)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/photos/<int:photo_id>/<size>.jpg")
def photo(photo_id: int, size: str) -> BaseResponse:
    """Send the display or thumbnail JPEG of a photo, or redirect to a placeholder until then."""
    try:
        path = service.public_photo_file(photo_id, size, make_if_missing=False)
    except NotFound:
        row = db.session.get(Photo, photo_id)
        if row is not None and row.failed_at is not None and size in service.DERIVATIVES:
            return _to_placeholder("photo-unavailable")
        raise
    if path is None:
        # resizing belongs to the worker; the page shows the photo on its next load
        response = _to_placeholder("photo-processing")
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    response = send_file(path, mimetype="image/jpeg", max_age=CACHE_SECONDS, conditional=True)
    response.cache_control.public = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response

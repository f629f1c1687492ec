"""Public photo serving: only the metadata-free derivatives, never the uploaded originals."""

from __future__ import annotations

from flask import Blueprint, Response, send_file

from app.extensions import db
from app.media import service

bp = Blueprint("media", __name__)

#: derivatives never change once written; a day keeps a later takedown effective soon enough
CACHE_SECONDS = 24 * 3600


@bp.route("/photos/<int:photo_id>/<size>.jpg")
def photo(photo_id: int, size: str) -> Response:
    """Send the display or thumbnail JPEG of a photo."""
    path = service.public_photo_file(photo_id, size)
    # public_photo_file makes the derivatives when the worker has not yet; keep that recorded
    db.session.commit()
    response = send_file(path, mimetype="image/jpeg", max_age=CACHE_SECONDS, conditional=True)
    response.cache_control.public = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response

"""Public photo serving: only the metadata-free derivatives, never the uploaded originals."""

from __future__ import annotations

from flask import Blueprint, Response, send_file

from app.media import service

bp = Blueprint("media", __name__)

#: derivatives never change once written; a day keeps a later takedown effective soon enough
CACHE_SECONDS = 24 * 3600


#: shown, never cached, in the seconds between an upload and the worker's resize
PROCESSING_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240" viewBox="0 0 320 240">'
    '<rect width="320" height="240" fill="#eaeef2"/>'
    '<text x="160" y="126" font-family="sans-serif" font-size="16" fill="#59636e" '
    'text-anchor="middle">Photo being processed…</text></svg>'
)


@bp.route("/photos/<int:photo_id>/<size>.jpg")
def photo(photo_id: int, size: str) -> Response:
    """Send the display or thumbnail JPEG of a photo, or a placeholder until it is made."""
    path = service.public_photo_file(photo_id, size, make_if_missing=False)
    if path is None:
        # resizing belongs to the worker; the page shows the photo on its next load
        response = Response(PROCESSING_SVG, mimetype="image/svg+xml")
        response.headers["Cache-Control"] = "no-store"
        response.headers["Retry-After"] = "5"
        return response
    response = send_file(path, mimetype="image/jpeg", max_age=CACHE_SECONDS, conditional=True)
    response.cache_control.public = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response

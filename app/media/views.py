"""Public photo serving: only the metadata-free derivatives, never the uploaded originals.

The copies are streamed through the app from whichever store holds them, rather than
answered with a redirect to the bucket. A city running several web servers then keeps one
stable, same-origin URL per photo (a presigned URL changes on every request, so nothing could
cache it; a public bucket would have to be reachable from the internet and named in the
pages' CSP), the bucket stays private and may sit on an internal network, and a reverse
proxy or CDN in front caches the copies by their long Cache-Control. The copies are small
(a 320 px thumbnail, a 1600 px display JPEG), so the app's share of the traffic is too.
"""

from __future__ import annotations

import io

from flask import Blueprint, make_response, redirect, send_file, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.core.errors import NotFound
from app.extensions import db
from app.media import service
from app.media.models import STAFF_ONLY_KINDS, Photo
from app.media.storage import StorageUnavailable

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


def store_unavailable() -> BaseResponse:
    """Answer 503 when the photo store does not answer: the client may try again shortly."""
    busy = make_response("The photo store is not answering; try again shortly.", 503)
    busy.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    busy.headers["Cache-Control"] = "no-store"
    return busy


@bp.route("/photos/<int:photo_id>/<size>.jpg")
def photo(photo_id: int, size: str) -> BaseResponse:
    """Send the display or thumbnail JPEG of a photo, or redirect to a placeholder until then."""
    row = db.session.get(Photo, photo_id)
    if (
        row is None
        or row.kind in STAFF_ONLY_KINDS
        or (row.request_id is None and row.work_order_id is None)
    ):
        # an internal note's photo is served to staff only, by the staff photo route; an
        # upload waiting for its report only by its token (upload_thumbnail)
        raise NotFound(f"There is no photo {photo_id}.")
    return copy_response(row, size, public=True)


def copy_response(row: Photo, size: str, *, public: bool) -> BaseResponse:
    """Answer with a derivative of a photo, a placeholder redirect, or 503 (store down).

    Public copies may be kept by browsers and shared caches for CACHE_SECONDS; staff-only
    copies by nobody but the browser that asked, and not on disk.
    """
    try:
        data = service.public_photo_bytes(row.id, size, make_if_missing=False)
    except StorageUnavailable:
        return store_unavailable()
    except NotFound:
        if row.failed_at is not None and size in service.DERIVATIVES:
            return _to_placeholder("photo-unavailable")
        raise
    if data is None:
        # resizing belongs to the worker; the page shows the photo on its next load
        response = _to_placeholder("photo-processing")
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    response = send_file(
        io.BytesIO(data),
        mimetype="image/jpeg",
        max_age=CACHE_SECONDS if public else None,
        conditional=True,
        # a copy never changes once written: its name and size identify its bytes
        etag=f"{row.id}-{size}",
        download_name=f"{row.id}-{size}.jpg",
    )
    if public:
        response.cache_control.public = True
    else:
        response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/photos/uploads/<token>/thumb.jpg")
def upload_thumbnail(token: str) -> BaseResponse:
    """Show the thumbnail of a photo sent ahead of its report, to whoever holds its token."""
    from app.core.errors import InvalidPhoto
    from app.media.uploads import read_tokens

    try:
        (upload,) = read_tokens([token])
    except (InvalidPhoto, ValueError):
        raise NotFound("There is no such uploaded photo.") from None
    return copy_response(upload.photo, "thumb", public=False)

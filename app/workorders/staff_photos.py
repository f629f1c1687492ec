"""Staff photo route: a photo as uploaded (its original), and copies of internal notes' photos.

Originals may carry the camera's GPS position and other metadata, so they are never public:
staff who may read the request's private data (requests.permissions.may_read_private, the
one home of that rule) get them here, and nobody keeps a copy. The route lives with work
orders because a photo belongs to a request or to a work order, and only this package sees
both.
"""

from __future__ import annotations

from flask import Blueprint, make_response
from werkzeug.wrappers import Response as BaseResponse

from app.auth.permissions import roles_required
from app.auth.roles import ROLES
from app.core.errors import Forbidden, NotFound
from app.extensions import db
from app.media import service as media
from app.media.models import Photo
from app.media.storage import StorageUnavailable
from app.media.validation import ACCEPTED_FORMATS
from app.media.views import copy_response, store_unavailable
from app.requests.models import ServiceRequest
from app.requests.permissions import may_read_private
from app.workorders.models import WorkOrder

bp = Blueprint("staff_photos", __name__, url_prefix="/staff")

#: the file name ending of each content type an original may have
_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/heic": "heic",
}
SIZES = ("original", *media.DERIVATIVES)
assert set(_EXTENSIONS) >= set(ACCEPTED_FORMATS.values())


def may_read_photo(photo: Photo) -> bool:
    """Tell whether the signed-in user may see a photo's original (and staff-only copies).

    A request's photo: whoever may read that request's private data. A work order's: whoever
    may read the private data of one of its requests. An upload attached to nothing: nobody.
    """
    if photo.request_id is not None:
        sr = db.session.get(ServiceRequest, photo.request_id)
        return sr is not None and may_read_private(sr)
    if photo.work_order_id is not None:
        wo = db.session.get(WorkOrder, photo.work_order_id)
        return wo is not None and any(may_read_private(sr) for sr in wo.requests)
    return False


@bp.route("/photos/<int:photo_id>/<size>")
@roles_required(*ROLES)
def staff_photo(photo_id: int, size: str) -> BaseResponse:
    """Send a photo's original as uploaded, or its display/thumb copy, to staff allowed it.

    :raises NotFound: no such photo or size, or the original is gone from the store (404).
    :raises Forbidden: the photo belongs to another department's request (403).
    """
    if size not in SIZES:
        raise NotFound(f"Unknown photo size {size!r}; use one of {', '.join(SIZES)}.")
    photo = db.session.get(Photo, photo_id)
    if photo is None:
        raise NotFound(f"There is no photo {photo_id}.")
    if not may_read_photo(photo):
        raise Forbidden(
            f"Photo {photo_id} belongs to another department's request; only that "
            "department's staff, agents, managers and admins may see it as uploaded."
        )
    if size != "original":
        return copy_response(photo, size, public=False)
    try:
        data = media.read_original(photo.stored_name)
    except StorageUnavailable:
        return store_unavailable()
    if data is None:
        raise NotFound(f"The original of photo {photo_id} is no longer stored.")
    response = make_response(data)
    response.content_type = photo.content_type
    name = f"photo-{photo.id}.{_EXTENSIONS.get(photo.content_type, 'bin')}"
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    # it may show where the reporter lives: no shared cache, and no copy left on disk
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # opened on its own, the file runs nothing, whatever a browser takes it for
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response

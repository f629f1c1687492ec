"""POST /api/v1/photos: a photo sent ahead of its report, answered with a token.

The report (the form or POST /api/v1/requests) then names the photo by `photo_token`. The
token is signed and single-use: see app.media.uploads.
"""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.core.errors import InvalidPhoto
from app.core.limits import limited
from app.extensions import db
from app.media import uploads
from app.media.validation import validate_uploads

blp = Blueprint(
    "photos_api",
    __name__,
    url_prefix="/api/v1",
    description="Photos sent before the report they belong to.",
)


class UploadLocationOut(Schema):
    lat = fields.Float()
    long = fields.Float()


class UploadOut(Schema):
    token = fields.String(
        metadata={"description": "Send it as photo_token with the report, within 23 hours."}
    )
    thumbnail_url = fields.String(
        metadata={"description": "A small copy (a placeholder until it is made)."}
    )
    #: from the photo's GPS tags, to offer as the report's location
    location = fields.Nested(UploadLocationOut, allow_none=True)


@blp.route("/photos", methods=["POST"])
@blp.doc(
    requestBody={
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["photo"],
                    "properties": {"photo": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
)
@blp.response(201, UploadOut)
@blp.alt_response(400, response="DEFAULT_ERROR", description="Not a JPEG, PNG or WebP photo.")
@blp.alt_response(413, response="DEFAULT_ERROR", description="The photo is too large.")
@blp.alt_response(429, response="DEFAULT_ERROR", description="Too many uploads: wait.")
@limited("RATELIMIT_PHOTO_UPLOAD")
def upload_photo() -> dict[str, Any]:
    """Send one photo of a problem before the report; get a token to send with the report.

    The photo is checked as a report's photo is (JPEG, PNG or WebP, size and pixel limits)
    and kept for a day; a report that names its token within 23 hours takes it. The
    location in the file is never published; it is returned to offer as the report's place.
    """
    files = request.files.getlist("photo") if request.mimetype == "multipart/form-data" else []
    photos = validate_uploads(files)
    if len(photos) != 1:
        raise InvalidPhoto("Send one photo, as the multipart field `photo`.", field="photo")
    upload = uploads.stash(photos[0])
    db.session.commit()
    where = upload.location
    return {
        "token": upload.token,
        "thumbnail_url": url_for("media.upload_thumbnail", token=upload.token),
        "location": {"lat": where.lat, "long": where.long} if where else None,
    }

"""Photos uploaded before the report: a signed token now, attached when the report is sent.

A resident's photo must survive a form that fails on another field, and a phone on a weak
signal should not send megabytes twice. So the photo goes up first (POST /api/v1/photos, or
kept by the form's failed submit) and is stored attached to nothing; the form then carries
only its token. The token is signed with SECRET_KEY, names one upload and expires before the
hourly sweep deletes unattached uploads (UNATTACHED_TTL), so it can neither be forged to
claim someone else's photo nor outlive the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import text

from app.core.errors import InvalidPhoto
from app.extensions import db
from app.media.metadata import PhotoLocation
from app.media.models import Photo
from app.media.service import UNATTACHED_TTL, attach_photo
from app.media.validation import ValidatedPhoto, max_photos

#: a token is honoured for this long; the sweep deletes the upload only after UNATTACHED_TTL
TOKEN_TTL = UNATTACHED_TTL - timedelta(hours=1)
CHOOSE_AGAIN = "Choose the photo again."


@dataclass(frozen=True)
class Upload:
    """A stored photo waiting for its report, and where the camera says it was taken."""

    photo: Photo
    token: str
    location: PhotoLocation | None


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="city311-photo-upload")


def stash(photo: ValidatedPhoto) -> Upload:
    """Store a checked photo attached to nothing and return it with its token."""
    row = attach_photo(photo, kind="report")
    where = photo.location
    token = _signer().dumps(
        {
            "id": row.id,
            "name": row.stored_name[:8],
            "at": [where.lat, where.long] if where else None,
        }
    )
    return Upload(row, token, where)


def read_tokens(tokens: list[str]) -> list[Upload]:
    """Return the uploads the tokens name, each still waiting for a report.

    :raises InvalidPhoto: too many, a token not made here (or altered), expired, or naming an
        upload that is gone or already sent with a report.
    """
    tokens = list(dict.fromkeys(t.strip() for t in tokens if t and t.strip()))
    if len(tokens) > max_photos():
        raise InvalidPhoto(f"Send at most {max_photos()} photos with a report.", field="photo")
    uploads = []
    for token in tokens:
        try:
            data = _signer().loads(token, max_age=int(TOKEN_TTL.total_seconds()))
        except SignatureExpired:
            raise InvalidPhoto(
                f"The photo was uploaded too long ago and is no longer kept. {CHOOSE_AGAIN}",
                field="photo",
            ) from None
        except BadSignature:
            raise InvalidPhoto(
                f"The photo reference is not one this site gave. {CHOOSE_AGAIN}", field="photo"
            ) from None
        row = db.session.get(Photo, int(data["id"]))
        if row is None or not row.stored_name.startswith(str(data.get("name", "-"))):
            raise InvalidPhoto(
                f"The uploaded photo is no longer kept. {CHOOSE_AGAIN}", field="photo"
            )
        if row.request_id is not None or row.work_order_id is not None:
            raise InvalidPhoto(
                f"This photo was already sent with another report. {CHOOSE_AGAIN}", field="photo"
            )
        at = data.get("at")
        where = PhotoLocation(float(at[0]), float(at[1])) if at else None
        uploads.append(Upload(row, token, where))
    return uploads


def claim(uploads: list[Upload], request_id: int) -> tuple[int, ...]:
    """Attach the uploads to a new request; return their ids.

    The update claims only uploads still attached to nothing, so two reports racing with the
    same token cannot both have the photo.

    :raises InvalidPhoto: an upload was claimed by another report meanwhile.
    """
    if not uploads:
        # expire_all() below would drop the caller's unflushed changes for nothing
        return ()
    ids = []
    for upload in uploads:
        won = db.session.execute(
            text(
                "UPDATE photos SET request_id = :request_id WHERE id = :id "
                "AND request_id IS NULL AND work_order_id IS NULL RETURNING id"
            ),
            {"request_id": request_id, "id": upload.photo.id},
        ).scalar()
        if won is None:
            raise InvalidPhoto(
                f"This photo was already sent with another report. {CHOOSE_AGAIN}", field="photo"
            )
        ids.append(int(won))
    db.session.expire_all()
    return tuple(ids)

"""Boundary files kept between the districts preview and its confirmation, in PostgreSQL.

The admin confirms exactly the file that was previewed, whichever web host each step
reaches. An upload not confirmed within UPLOAD_SECONDS is forgotten.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete

from app.core.clock import utcnow
from app.core.errors import DomainError
from app.extensions import db
from app.geo.models import DistrictUpload

UPLOAD_SECONDS = 24 * 3600


def keep(data: bytes) -> str:
    """Keep an upload until it is confirmed; forget the stale ones. Return its token.

    The caller commits.
    """
    cutoff = utcnow() - timedelta(seconds=UPLOAD_SECONDS)
    db.session.execute(delete(DistrictUpload).where(DistrictUpload.created_at < cutoff))
    token = secrets.token_urlsafe(16)
    db.session.add(DistrictUpload(token=token, data=data))
    return token


def kept(token: str) -> bytes:
    """Return a kept upload. :raises DomainError: unknown or forgotten."""
    found = db.session.get(DistrictUpload, token) if len(token) <= 40 else None
    if found is None or found.created_at < utcnow() - timedelta(seconds=UPLOAD_SECONDS):
        raise DomainError("That upload is no longer here: upload the file again.", field="file")
    return found.data


def forget(token: str) -> None:
    """Drop a kept upload (the caller commits, with the districts it replaced)."""
    db.session.execute(delete(DistrictUpload).where(DistrictUpload.token == token))

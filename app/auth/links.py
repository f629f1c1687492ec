"""One-time set-password links: signed, expiring, and void once used.

A link carries the user id and a fingerprint of the user's password hash at the time it
was asked for. Setting a password changes the hash, so the link works once; a newer
invitation or reset makes a new unusable hash, so older links die too. The token is never
stored: the email builder signs it from the outbox row's user id and fingerprint.
"""

from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from app.auth import service
from app.auth.models import User
from app.core.errors import NotFound
from app.extensions import db

#: how long a set-password link works, counted from when its email was written
LINK_MAX_AGE_HOURS = 72
INVALID_LINK = (
    "This link is not valid any more: it was used already, a newer one was sent, or it "
    "expired. Ask an administrator for a new one."
)


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="city311-set-password")


def fingerprint(user: User) -> str:
    """Return what a link is bound to: a digest of the user's current password hash."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:32]


def make_token(user_id: int, bound_to: str) -> str:
    """Return the signed token of a set-password link."""
    return str(_signer().dumps([user_id, bound_to]))


def user_for_token(token: str, *, lock: bool = False) -> User:
    """Return the active user a valid, unused, unexpired link is for.

    :raises NotFound: the link is bad, used, superseded or expired, or the account is inactive.
    """
    try:
        user_id, bound_to = _signer().loads(token, max_age=LINK_MAX_AGE_HOURS * 3600)
        if lock:  # about to use it: two tabs posting the same link cannot both succeed
            db.session.execute(select(User.id).where(User.id == int(user_id)).with_for_update())
        user = db.session.get(User, int(user_id), populate_existing=lock)
    except (BadSignature, ValueError, TypeError):
        raise NotFound(INVALID_LINK) from None
    if user is None or not user.active or fingerprint(user) != bound_to:
        raise NotFound(INVALID_LINK)
    return user


def set_password_from_token(token: str, password: str) -> User:
    """Set the password of the link's user; the link (and every older one) stops working.

    :raises NotFound: the link is not valid (see user_for_token).
    :raises DomainError: the password is too short.
    """
    user = user_for_token(token, lock=True)
    service.set_password(user, password)
    return user

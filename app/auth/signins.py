"""Sign-ins, successful or not, in the audit: the email tried, the client's address, the outcome.

The entry is written in the sign-in's own transaction, inside a savepoint: if it cannot be
written, the sign-in goes on without it (and the failure is logged) rather than failing.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

from flask import request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app.auth.models import User
from app.core import audit
from app.core.clock import utcnow
from app.extensions import db

log = logging.getLogger(__name__)

#: the audit's target kind of sign-ins, for its filter
SIGN_IN_KIND = "sign_in"
#: the outcome of an attempt on an account locked after repeated failures
LOCKED = "account locked"
#: a failed attempt has no actor, whoever may be signed in on that browser
_NO_ONE = SimpleNamespace(id=None, email="")


def _failure_reason(email: str) -> str:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        return "unknown email"
    if not user.active:
        return "account deactivated"
    if not user.password_set:
        return "no password set yet"
    return "wrong password"


def record(email_tried: str, user: User | None, *, via: str, outcome: str | None = None) -> None:
    """Record a sign-in (`user` set) or a failed one; stamp the user's last sign-in.

    `via` says where: "form" (the sign-in page) or "api" (a token asked for by password).
    `outcome` names why a failed one failed when the caller knows better (a locked account).
    The password is never recorded.
    """
    email = (email_tried or "").strip().lower()[:254]
    details = {"email": email, "ip": request.remote_addr or "", "via": via}
    if user is not None:
        user.last_sign_in_at = utcnow()
    try:
        with db.session.begin_nested():
            if user is not None:
                audit.record(
                    user,
                    "sign_in",
                    (SIGN_IN_KIND, user.id, email),
                    after={**details, "outcome": "ok"},
                )
            else:
                details["outcome"] = outcome or _failure_reason(email)
                audit.record(_NO_ONE, "sign_in_failed", (SIGN_IN_KIND, "", email), after=details)
    except SQLAlchemyError:
        log.exception("could not record the sign-in of %r in the audit", email)

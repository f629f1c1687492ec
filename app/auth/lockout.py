"""Lock an account after repeated failed sign-ins, whatever address they come from.

The per-address limit on the sign-in endpoints stops one machine guessing fast; this stops
many machines guessing one account's password slowly. After SIGN_IN_LOCKOUT_FAILURES
failures in a row the account refuses every sign-in, right password or not, for
SIGN_IN_LOCKOUT_MINUTES from the last failure. The count lives in Redis (it expires by
itself); if Redis is down nobody is locked out, and the per-address limit still holds.
"""

from __future__ import annotations

import logging

from flask import current_app
from redis.exceptions import RedisError

from app.auth import service
from app.auth.models import User
from app.core.limits import RateLimited, wait_words
from app.core.queue import state

log = logging.getLogger(__name__)


def _key(email: str) -> str:
    return f"{current_app.config['RQ_QUEUE_PREFIX']}-signin-failures:{email.strip().lower()}"


def _settings() -> tuple[int, int]:
    config = current_app.config
    return int(config["SIGN_IN_LOCKOUT_FAILURES"]), int(config["SIGN_IN_LOCKOUT_MINUTES"]) * 60


def _locked_for(email: str) -> int:
    """Return the seconds the account stays locked, 0 when it is not."""
    failures, _ = _settings()
    pipe = state().redis.pipeline()
    pipe.get(_key(email))
    pipe.ttl(_key(email))
    count, ttl = pipe.execute()
    if failures > 0 and count is not None and int(count) >= failures and int(ttl) > 0:
        return int(ttl)
    return 0


def _note_failure(email: str) -> None:
    failures, seconds = _settings()
    key = _key(email)
    pipe = state().redis.pipeline()
    pipe.incr(key)
    # the lock (and the count towards it) lasts `seconds` from the latest failure
    pipe.expire(key, seconds)
    pipe.execute()


def authenticate(email: str, password: str) -> User | None:
    """Return the active user with these credentials, or None; count the failures.

    :raises RateLimited: the account is locked (429): too many failures in a row.
    """
    email = (email or "").strip()
    try:
        locked = _locked_for(email) if email else 0
    except RedisError:
        log.warning("sign-in lock-out unavailable: Redis does not answer")
        locked = 0
    if locked:
        raise RateLimited(
            f"This account is locked after too many failed sign-ins. Try again in "
            f"{wait_words(locked)}, or ask an administrator to reset your password.",
            retry_after=locked,
        )
    user = service.authenticate(email, password)
    try:
        if user is None and email:
            _note_failure(email)
        elif user is not None:
            state().redis.delete(_key(email))
    except RedisError:
        log.warning("sign-in failure not counted: Redis does not answer")
    return user

"""API keys of Open311 client applications: issue, list, revoke, and check one on a POST."""

from __future__ import annotations

import hashlib
import secrets
import time

from flask import current_app
from limits import parse_many
from sqlalchemy import select, text

from app.core import limits
from app.core.clock import utcnow
from app.core.errors import DomainError, Forbidden, NotFound
from app.extensions import db
from app.open311.models import ApiKey

KEY_PREFIX_LENGTH = 8


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(client_name: str, contact: str = "") -> tuple[ApiKey, str]:
    """Issue a key for a client application; return the row and the key, shown only now.

    :raises DomainError: no application name.
    """
    client_name = (client_name or "").strip()
    if not client_name:
        raise DomainError("Name the client application the key is for.", field="name")
    if len(client_name) > 200:
        raise DomainError("The application name is longer than 200 characters.", field="name")
    contact = (contact or "").strip()
    if len(contact) > 254:
        raise DomainError("The contact is longer than 254 characters.", field="contact")
    key = secrets.token_urlsafe(30)
    row = ApiKey(
        client_name=client_name,
        contact=contact,
        key_prefix=key[:KEY_PREFIX_LENGTH],
        key_hash=_digest(key),
    )
    db.session.add(row)
    db.session.flush()
    return row, key


def list_keys() -> list[ApiKey]:
    """Return every key, active ones first, newest first."""
    return list(
        db.session.scalars(
            select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.id.desc())
        )
    )


def revoke_key(*, key_id: int | None = None, prefix: str | None = None) -> ApiKey:
    """Revoke a key by id or by its displayed prefix; revoking twice is harmless.

    :raises NotFound: no key matches.
    :raises DomainError: the prefix matches several keys.
    """
    stmt = select(ApiKey)
    if key_id is not None:
        stmt = stmt.where(ApiKey.id == key_id)
    elif prefix and prefix.strip():
        stmt = stmt.where(ApiKey.key_prefix == prefix.strip())
    else:
        raise DomainError("Say which key to revoke (its prefix).", field="prefix")
    rows = list(db.session.scalars(stmt))
    if not rows:
        raise NotFound("No API key matches; `flask open311 keys list` shows the prefixes.")
    if len(rows) > 1:
        raise DomainError("Several keys share this prefix; revoke them from the admin page.")
    row = rows[0]
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        db.session.flush()
    _key_cache().clear()
    return row


# One round trip: find the key and note its use, at most once a minute so that a busy
# client does not turn every POST into a write on the same row.
_USE_KEY = text(
    """
    WITH k AS (
        SELECT id FROM open311_api_keys WHERE key_hash = :key_hash AND revoked_at IS NULL
    ), touch AS (
        UPDATE open311_api_keys SET last_used_at = now()
        FROM k
        WHERE open311_api_keys.id = k.id
          AND (open311_api_keys.last_used_at IS NULL
               OR open311_api_keys.last_used_at < now() - interval '1 minute')
    )
    SELECT k.id, open311_api_keys.rate_limit
    FROM k JOIN open311_api_keys ON open311_api_keys.id = k.id
    """
)


def _key_cache() -> dict[str, tuple[int, str | None, float]]:
    return current_app.extensions.setdefault("open311_keys", {})


def authenticate_key(key: str | None) -> int:
    """Return the id of the active API key given, noting its use.

    A valid key is remembered for OPEN311_KEY_CACHE_SECONDS, sparing intake a round trip;
    a revocation therefore reaches other processes within that time, and this one at once.
    Each call counts against the key's own rate limit, if it has one.

    :raises Forbidden: no key, or one that is unknown or revoked.
    :raises RateLimited: the key's client went over its rate limit (429).
    """
    key = (key or "").strip()
    if not key:
        raise Forbidden(
            "An api_key is required to submit requests; the city issues one per application."
        )
    digest = _digest(key)
    cache = _key_cache()
    now = time.monotonic()
    cached = cache.get(digest)
    if cached is not None and cached[2] > now:
        key_id, rate_limit = cached[0], cached[1]
    else:
        row = db.session.execute(_USE_KEY, {"key_hash": digest}).one_or_none()
        if row is None:
            cache.pop(digest, None)
            raise Forbidden("The api_key is not valid or has been revoked.")
        key_id, rate_limit = int(row[0]), row[1]
        ttl = current_app.config["OPEN311_KEY_CACHE_SECONDS"]
        if ttl > 0:
            cache[digest] = (key_id, rate_limit, now + ttl)
    limits.hit(
        rate_limit,
        "open311-key",
        str(key_id),
        message=f"This API key may submit at most {rate_limit} requests; slow down and retry.",
    )
    return key_id


def set_rate_limit(prefix: str, rate_limit: str) -> ApiKey:
    """Limit the requests a key's client may POST ("100/minute;1000/day"); blank: unlimited.

    :raises NotFound: no key has this prefix.
    :raises DomainError: the limit is not in the "count/period" form.
    """
    rate_limit = (rate_limit or "").strip()
    if rate_limit:
        try:
            parse_many(rate_limit)
        except ValueError:
            raise DomainError(
                f"{rate_limit!r} is not a rate limit: write it as 100/minute, or several "
                "joined by ';' (100/minute;1000/day).",
                field="rate_limit",
            ) from None
    rows = list(db.session.scalars(select(ApiKey).where(ApiKey.key_prefix == prefix.strip())))
    if len(rows) != 1:
        raise NotFound("No single API key has this prefix; `flask open311 keys list` shows them.")
    rows[0].rate_limit = rate_limit[:100] or None
    db.session.flush()
    _key_cache().clear()
    return rows[0]

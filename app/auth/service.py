"""Staff accounts, passwords and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth.models import ApiToken, User
from app.auth.roles import CREW, DISPATCHER, ROLES
from app.core.clock import utcnow
from app.core.errors import Conflict, DomainError
from app.extensions import db

MIN_PASSWORD_LENGTH = 10
#: per hash method, a hash of no one's password, checked when the email is unknown
_dummy_hashes: dict[str, str] = {}


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _dummy_hash() -> str:
    # Made with the configured method, so that a sign-in for an unknown email costs as much
    # as one for a real account and its timing does not tell which emails have accounts.
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash(secrets.token_hex(16), method=method)
    return _dummy_hashes[method]


def _check_password_length(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            f"The password must be at least {MIN_PASSWORD_LENGTH} characters.", field="password"
        )


def create_user(
    *,
    email: str,
    password: str,
    role: str,
    name: str = "",
    department_id: int | None = None,
    crew_id: int | None = None,
) -> User:
    """Create a staff account.

    :raises DomainError: bad email, role, password, or a role without its department/crew.
    :raises Conflict: the email is taken.
    """
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise DomainError(f"{email!r} is not an email address.", field="email")
    if role not in ROLES:
        raise DomainError(f"Unknown role {role!r}; use one of {', '.join(ROLES)}.", field="role")
    _check_password_length(password)
    if role == DISPATCHER and department_id is None:
        raise DomainError("A dispatcher needs a department.", field="department")
    if role == CREW and crew_id is None:
        raise DomainError("A crew member needs a crew.", field="crew")
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"There is already an account for {email}.", field="email")
    user = User(
        email=email,
        name=name.strip(),
        password_hash=hash_password(password),
        role=role,
        department_id=department_id,
        crew_id=crew_id,
    )
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """Return the active user with these credentials, or None."""
    user = db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if user is None:
        check_password_hash(_dummy_hash(), password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    return user


def set_password(user: User, password: str) -> None:
    """Give the user a new password.

    :raises DomainError: the password is too short.
    """
    _check_password_length(password)
    user.password_hash = hash_password(password)
    end_sessions(user)  # whoever knew the old password is signed out everywhere


def end_sessions(user: User) -> None:
    """End every signed-in session of the user (sign-out, new password): bump its version."""
    user.session_version += 1
    db.session.flush()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> str:
    """Create an API token for the user and return it; only its hash is kept."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        ApiToken(
            user_id=user.id,
            token_hash=_digest(token),
            expires_at=utcnow() + timedelta(hours=current_app.config["API_TOKEN_TTL_HOURS"]),
        )
    )
    db.session.flush()
    return token


def user_for_token(token: str) -> User | None:
    """Return the active user owning a valid, unexpired, unrevoked token."""
    if not token:
        return None
    row = db.session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == _digest(token),
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > func.now(),
        )
    )
    if row is None or not row.user.active:
        return None
    return row.user


def token_expires_at(token: str) -> datetime | None:
    """Return when a token expires, or None for an unknown token."""
    return db.session.scalar(
        select(ApiToken.expires_at).where(ApiToken.token_hash == _digest(token))
    )


def deactivate_user(user: User) -> None:
    """Stop a user from signing in; their tokens stop working too (user_for_token checks)."""
    user.active = False
    db.session.flush()


def revoke_token(token: str) -> bool:
    """Revoke a token; return whether it existed."""
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None:
        return False
    row.revoked_at = utcnow()
    return True

"""Staff accounts, passwords and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth.models import UNUSABLE_PASSWORD_PREFIX, ApiToken, User
from app.auth.roles import CREW, DISPATCHER, ROLES
from app.core.clock import utcnow
from app.core.errors import Conflict, DomainError, NotFound
from app.extensions import db
from app.org.models import Crew

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


def unusable_password_hash() -> str:
    """Return a hash no password matches, different every time (a set-password link is bound
    to the hash, so a new one voids the links sent before)."""
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_hex(16)


def check_assignment(
    role: str, department_id: int | None, crew_id: int | None
) -> tuple[int | None, int | None]:
    """Return the (department, crew) a role may have: the rules of every account change.

    A crew member needs a crew (and works for its department); a dispatcher needs a
    department; other roles have no crew.

    :raises DomainError: an unknown role, or a role without its department or crew.
    :raises NotFound: no such crew.
    """
    if role not in ROLES:
        raise DomainError(f"Unknown role {role!r}; use one of {', '.join(ROLES)}.", field="role")
    if role == CREW:
        if crew_id is None:
            raise DomainError("A crew member needs a crew.", field="crew")
        crew = db.session.get(Crew, crew_id)
        if crew is None:
            raise NotFound(f"There is no crew {crew_id}.", field="crew")
        return crew.department_id, crew.id
    if crew_id is not None:
        raise DomainError("Only a crew member has a crew.", field="crew")
    if role == DISPATCHER and department_id is None:
        raise DomainError("A dispatcher needs a department.", field="department")
    return department_id, None


def _check_password_length(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            f"The password must be at least {MIN_PASSWORD_LENGTH} characters.", field="password"
        )


def create_user(
    *,
    email: str,
    password: str | None,
    role: str,
    name: str = "",
    department_id: int | None = None,
    crew_id: int | None = None,
) -> User:
    """Create a staff account; with `password` None it cannot sign in until one is set.

    :raises DomainError: bad email, role, password, or a role without its department/crew.
    :raises Conflict: the email is taken.
    """
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
        raise DomainError(f"{email!r} is not an email address.", field="email")
    if password is not None:
        _check_password_length(password)
    department_id, crew_id = check_assignment(role, department_id, crew_id)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"There is already an account for {email}.", field="email")
    user = User(
        email=email,
        name=name.strip(),
        password_hash=hash_password(password) if password is not None else unusable_password_hash(),
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
    if user is None or not user.password_set:
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
    """Return the active user owning a valid, unexpired, unrevoked token; note its use."""
    if not token:
        return None
    # loaded before the view runs: nothing of the request's own work is pending yet
    fresh = not db.session().in_transaction()
    row = db.session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == _digest(token),
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > func.now(),
        )
    )
    if row is None or not row.user.active:
        return None
    now = utcnow()
    # at most once a minute, so that a busy client does not write on every request
    if fresh and (row.last_used_at is None or row.last_used_at < now - timedelta(minutes=1)):
        row.last_used_at = now
        db.session.commit()
    return row.user


def token_expires_at(token: str) -> datetime | None:
    """Return when a token expires, or None for an unknown token."""
    return db.session.scalar(
        select(ApiToken.expires_at).where(ApiToken.token_hash == _digest(token))
    )


def deactivate_user(user: User) -> None:
    """Stop a user from signing in: end their sessions and revoke their API tokens."""
    user.active = False
    revoke_user_tokens(user)
    end_sessions(user)


def revoke_user_tokens(user: User) -> int:
    """Revoke every live API token of the user; return how many."""
    rows = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    now = utcnow()
    for row in rows:
        row.revoked_at = now
    db.session.flush()
    return len(rows)


def revoke_token(token: str) -> bool:
    """Revoke a token; return whether it existed."""
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None:
        return False
    row.revoked_at = utcnow()
    return True

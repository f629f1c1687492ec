"""Audited administration of staff accounts, shared by the admin pages and the API.

Invite, change role / department / crew, deactivate, reactivate, reset a password, and
revoke API tokens. Every verb records who did what, before and after (never a password
hash or a token), in the transaction of the change; none commits.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import or_, select

from app.auth import links, service, signals
from app.auth.models import UNUSABLE_PASSWORD_PREFIX, ApiToken, User
from app.auth.roles import ADMIN, CREW
from app.core import app_object, audit
from app.core.clock import utcnow
from app.core.errors import Conflict, NotFound
from app.extensions import db
from app.org.models import Department


class _Keep:
    """The value of an argument left out: keep what the account has."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()
#: API tokens listed on one page
TOKEN_PAGE = 200


def user_view(user: User) -> dict[str, Any]:
    """Return what the audit keeps of an account."""
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "department": user.department.code if user.department else None,
        "crew": user.crew.name if user.crew else None,
        "active": user.active,
    }


def _target(user: User) -> tuple[str, int, str]:
    return ("user", user.id, user.email)


def get_user(user_id: int) -> User:
    """Return an account by id. :raises NotFound: there is none."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no account {user_id}.", field="user")
    return user


def search_users(query: str = "", *, crew_id: int | None = None) -> list[User]:
    """Return accounts whose email, name, role or department contains `query`, by email."""
    stmt = select(User).outerjoin(Department, Department.id == User.department_id)
    if query.strip():
        like = f"%{query.strip()}%"
        stmt = stmt.where(
            or_(
                User.email.ilike(like),
                User.name.ilike(like),
                User.role.ilike(like),
                Department.code.ilike(like),
                Department.name.ilike(like),
            )
        )
    if crew_id is not None:
        stmt = stmt.where(User.crew_id == crew_id)
    return list(db.session.scalars(stmt.order_by(User.email)).unique())


def _request_link(user: User, kind: str) -> None:
    # notifications writes the outbox row in this transaction (see app.auth.signals)
    signals.password_link_requested.send(
        app_object(),
        user_id=user.id,
        email=user.email,
        kind=kind,
        fingerprint=links.fingerprint(user),
    )


def create_account(
    *,
    email: str,
    role: str,
    password: str | None,
    name: str = "",
    department_id: int | None = None,
    crew_id: int | None = None,
    actor: Any = None,
) -> User:
    """Create an account, with a password or (None) none yet, and record it.

    `actor` is who to record (see audit.record): None for the signed-in admin.

    :raises DomainError: bad email, role or password, or a role without its department or crew.
    :raises Conflict: the email is taken (409).
    """
    user = service.create_user(
        email=email,
        password=password,
        role=role,
        name=name,
        department_id=department_id,
        crew_id=crew_id,
    )
    action = "create" if password is not None else "invite"
    audit.record(actor, action, _target(user), after=user_view(user))
    return user


def invite(
    *,
    email: str,
    role: str,
    name: str = "",
    department_id: int | None = None,
    crew_id: int | None = None,
) -> User:
    """Create an account without a password and email its owner a set-password link.

    :raises DomainError: bad email or role, or a role without its department or crew.
    :raises Conflict: the email is taken (409).
    """
    user = create_account(
        email=email,
        role=role,
        password=None,
        name=name,
        department_id=department_id,
        crew_id=crew_id,
    )
    _request_link(user, "invitation")
    return user


def _guard_last_admin(user: User, *, role: str, active: bool) -> None:
    """Refuse a change that would leave the city without an active admin.

    :raises Conflict: `user` is the last active admin (409).
    """
    if user.role != ADMIN or not user.active or (role == ADMIN and active):
        return
    # the admins' rows are locked: two admins demoting each other at once cannot both win
    others = db.session.scalars(
        select(User.password_hash)
        .where(User.role == ADMIN, User.active.is_(True), User.id != user.id)
        .with_for_update()
    ).all()
    # an invited admin who has not chosen a password yet cannot sign in: it does not count
    if not any(not h.startswith(UNUSABLE_PASSWORD_PREFIX) for h in others):
        raise Conflict(
            f"{user.email} is the last active admin: make another account admin first "
            "(one that has chosen its password).",
            field="active" if not active else "role",
        )


def change_user(
    user: User,
    *,
    name: str | None = None,
    role: str | None = None,
    department_id: int | None | _Keep = KEEP,
    crew_id: int | None | _Keep = KEEP,
    active: bool | None = None,
    actor: Any = None,
) -> User:
    """Change an account's name, role, department, crew, or (de)activate it; record it.

    Leaving the crew role drops the crew; a crew member works for the crew's department.
    Deactivation ends the account's sessions and revokes its API tokens. `actor` is who to
    record (see audit.record): None for the signed-in admin.

    :raises DomainError: a role without its department or crew (400).
    :raises NotFound: no such crew (404).
    :raises Conflict: it would remove the last active admin (409).
    """
    before = user_view(user)
    new_role = role if role is not None else user.role
    new_active = active if active is not None else user.active
    dept = user.department_id if isinstance(department_id, _Keep) else department_id
    crew = user.crew_id if isinstance(crew_id, _Keep) else crew_id
    if new_role != CREW and isinstance(crew_id, _Keep):
        crew = None
    dept, crew = service.check_assignment(new_role, dept, crew)
    _guard_last_admin(user, role=new_role, active=new_active)
    if name is not None:
        user.name = name.strip()[:200]
    user.role, user.department_id, user.crew_id = new_role, dept, crew
    if new_active != user.active:
        if new_active:
            user.active = True
        else:
            service.deactivate_user(user)
    db.session.flush()
    db.session.refresh(user, ["department", "crew"])
    after = user_view(user)
    if after != before:
        action = (
            "update"
            if before["active"] == after["active"]
            else ("activate" if after["active"] else "deactivate")
        )
        audit.record(actor, action, _target(user), before, after)
    return user


def reset_password(user: User) -> User:
    """Void the password, end the sessions and API tokens, and email a new set-password link.

    :raises Conflict: the account is deactivated: reactivate it first (409).
    """
    if not user.active:
        raise Conflict(
            f"{user.email} is deactivated: reactivate the account before resetting its password.",
            field="active",
        )
    user.password_hash = service.unusable_password_hash()
    service.end_sessions(user)
    revoked = service.revoke_user_tokens(user)
    audit.record(None, "reset_password", _target(user), after={"tokens_revoked": revoked})
    _request_link(user, "reset")
    return user


def set_password(user: User, password: str, *, actor: Any) -> User:
    """Give an account a new password (`flask users set-password`), and record it (not the
    password): every session and API token made with the old one ends.

    :raises DomainError: the password is too short (nothing is written).
    """
    service.set_password(user, password)
    revoked = service.revoke_user_tokens(user)
    audit.record(actor, "set_password", _target(user), after={"tokens_revoked": revoked})
    return user


def set_password_from_link(token: str, password: str) -> User:
    """Set a password from a set-password link, and record it (not the password).

    :raises NotFound: the link is used, superseded, expired or bad.
    :raises DomainError: the password is too short.
    """
    user = links.set_password_from_token(token, password)
    audit.record(user, "set_password", _target(user))
    return user


def list_tokens(query: str = "", *, user_id: int | None = None) -> list[ApiToken]:
    """Return API tokens, newest first, whose owner's email contains `query`."""
    stmt = select(ApiToken).join(User, User.id == ApiToken.user_id)
    if query.strip():
        stmt = stmt.where(User.email.ilike(f"%{query.strip()}%"))
    if user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    stmt = stmt.order_by(ApiToken.created_at.desc(), ApiToken.id.desc()).limit(TOKEN_PAGE)
    return list(db.session.scalars(stmt).unique())


def revoke_token(token_id: int) -> ApiToken:
    """Revoke one API token by id and record it; revoking it again changes nothing.

    :raises NotFound: there is no such token (404).
    """
    row = db.session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"There is no API token {token_id}.", field="token")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        db.session.flush()
        audit.record(
            None,
            "revoke",
            ("api_token", row.id, row.user.email),
            before={"revoked_at": None},
            after={"revoked_at": row.revoked_at},
        )
    return row

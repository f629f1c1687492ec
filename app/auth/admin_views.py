"""The admin pages of staff accounts, their API tokens, and crew members.

Every change goes through app.auth.accounts, the verbs the admin API uses too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.auth import accounts
from app.auth.models import User
from app.auth.permissions import roles_required
from app.auth.roles import ADMIN, CREW, ROLES
from app.core.errors import DomainError
from app.extensions import db
from app.org import service as org

bp = Blueprint("users_admin", __name__, url_prefix="/admin")


def _department_id(code: str) -> int | None:
    return org.get_department(code).id if code else None


def _crew_id(raw: str) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise DomainError("Choose a crew from the list.", field="crew")
    return int(raw)


def _choices(user: User | None = None) -> dict[str, Any]:
    """Return the roles, departments and crews a form offers: the active ones, and the
    account's own even if deactivated since, so that saving the form keeps them."""
    departments = org.search_departments(include_inactive=False)
    crews = org.list_crews(active_only=True)
    if user is not None and user.department and user.department not in departments:
        departments.append(user.department)
    if user is not None and user.crew and user.crew not in crews:
        crews.append(user.crew)
    return {"roles": ROLES, "departments": departments, "crews": crews}


def _users_page(
    *, errors: Mapping[str, str] | None = None, form: Mapping[str, str] | None = None
) -> str:
    q = request.args.get("q", "")
    return render_template(
        "admin/users.html",
        users=accounts.search_users(q),
        q=q,
        errors=errors or {},
        form=form or {},
        **_choices(),
    )


@bp.get("/users")
@roles_required(ADMIN)
def users() -> str:
    """List staff accounts with search, and a form to invite one."""
    return _users_page()


@bp.post("/users")
@roles_required(ADMIN)
def invite() -> Response | tuple[str, int]:
    """Invite a new staff member by email."""
    form = request.form.to_dict()
    try:
        user = accounts.invite(
            email=form.get("email", ""),
            role=form.get("role", ""),
            name=form.get("name", ""),
            department_id=_department_id(form.get("department", "")),
            crew_id=_crew_id(form.get("crew", "")),
        )
    except DomainError as err:
        db.session.rollback()
        return _users_page(errors={err.field or "email": err.message}, form=form), err.status_code
    db.session.commit()
    flash(f"Invited {user.email}: the email with their set-password link is on its way.", "success")
    return redirect(url_for("users_admin.user", user_id=user.id), 303)


def _user_page(user: User, *, errors: Mapping[str, str] | None = None) -> str:
    return render_template(
        "admin/user.html",
        user=user,
        tokens=accounts.list_tokens(user_id=user.id),
        errors=errors or {},
        **_choices(user),
    )


@bp.get("/users/<int:user_id>")
@roles_required(ADMIN)
def user(user_id: int) -> str:
    """One account: its role, department and crew, state, password and API tokens."""
    return _user_page(accounts.get_user(user_id))


@bp.post("/users/<int:user_id>")
@roles_required(ADMIN)
def change_user(user_id: int) -> Response | tuple[str, int]:
    """Change an account, deactivate or reactivate it, or reset its password."""
    user = accounts.get_user(user_id)
    action = request.form.get("action", "update")
    try:
        if action == "update":
            accounts.change_user(
                user,
                name=request.form.get("name", user.name),
                role=request.form.get("role", user.role),
                department_id=_department_id(request.form.get("department", "")),
                crew_id=_crew_id(request.form.get("crew", "")),
            )
            done = f"{user.email} is saved."
        elif action == "reset":
            accounts.reset_password(user)
            done = f"{user.email} is signed out everywhere; a set-password link is on its way."
        else:
            accounts.change_user(user, active=action == "activate")
            done = f"{user.email} is {'reactivated' if user.active else 'deactivated'}."
    except DomainError as err:
        db.session.rollback()
        db.session.refresh(user)
        return _user_page(user, errors={err.field or "role": err.message}), err.status_code
    db.session.commit()
    flash(done, "success")
    back = request.form.get("back") == "list"
    return redirect(
        url_for("users_admin.users") if back else url_for("users_admin.user", user_id=user.id), 303
    )


@bp.get("/tokens")
@roles_required(ADMIN)
def tokens() -> str:
    """List staff API tokens: whose, created, last used, expiry, revoked."""
    q = request.args.get("q", "")
    return render_template("admin/tokens.html", tokens=accounts.list_tokens(q), q=q)


@bp.post("/tokens/<int:token_id>/revoke")
@roles_required(ADMIN)
def revoke_token(token_id: int) -> Response:
    """Revoke one API token."""
    row = accounts.revoke_token(token_id)
    db.session.commit()
    flash(f"The token of {row.user.email} is revoked.", "success")
    target = request.form.get("back") or ""
    if target.isdigit():
        return redirect(url_for("users_admin.user", user_id=int(target)), 303)
    return redirect(url_for("users_admin.tokens"), 303)


def _members_page(crew_id: int, *, error: str | None = None) -> str:
    crew = org.get_crew(crew_id)
    members = accounts.search_users(crew_id=crew.id)
    return render_template(
        "admin/crew_members.html",
        crew=crew,
        members=members,
        candidates=[u for u in accounts.search_users() if u.active and u.crew_id != crew.id],
        other_roles=[r for r in ROLES if r != CREW],
        error=error,
    )


@bp.get("/crews/<int:crew_id>/members")
@roles_required(ADMIN)
def crew_members(crew_id: int) -> str:
    """A crew's members, with forms to add and remove them."""
    return _members_page(crew_id)


@bp.post("/crews/<int:crew_id>/members")
@roles_required(ADMIN)
def change_crew_members(crew_id: int) -> Response | tuple[str, int]:
    """Add an account to the crew (it becomes a crew member) or remove one (a new role)."""
    crew = org.get_crew(crew_id)
    try:
        raw_id = request.form.get("user", "")
        if not raw_id.isdigit():
            raise DomainError("Choose an account from the list.", field="user")
        user = accounts.get_user(int(raw_id))
        if request.form.get("action") == "remove":
            if user.crew_id != crew.id:
                raise DomainError(f"{user.email} is not in {crew.name}.", field="user")
            role = request.form.get("role", "")
            # a dispatcher taken off a crew keeps working for the crew's department
            accounts.change_user(user, role=role, department_id=crew.department_id, crew_id=None)
            done = f"{user.email} left {crew.name} and is now {role}."
        else:
            accounts.change_user(user, role=CREW, crew_id=crew.id)
            done = f"{user.email} joined {crew.name}."
    except DomainError as err:
        db.session.rollback()
        return _members_page(crew_id, error=err.message), err.status_code
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("users_admin.crew_members", crew_id=crew.id), 303)

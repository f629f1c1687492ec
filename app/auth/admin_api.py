"""The staff accounts and API tokens admin API: /api/v1/admin/users and /api/v1/admin/tokens."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from app.auth import accounts
from app.auth.admin_schemas import (
    AdminTokenArgs,
    AdminTokenOut,
    AdminUserArgs,
    AdminUserIn,
    AdminUserOut,
    AdminUserPatch,
)
from app.auth.api import BEARER
from app.auth.models import ApiToken, User
from app.auth.permissions import roles_required
from app.auth.roles import ADMIN
from app.core.apidocs import ADMIN_ERRORS, error_answers
from app.extensions import db
from app.org import service as org

blp = Blueprint(
    "users_api",
    __name__,
    url_prefix="/api/v1/admin",
    description="Staff accounts and their API tokens (admin); every change is in the audit.",
)


def _errors(*answers: tuple[int, str]) -> Any:
    return error_answers(blp, *ADMIN_ERRORS, *answers)


def _department_id(code: str | None) -> int | None:
    return org.get_department(code).id if code else None


@blp.route("/users", methods=["GET"])
@roles_required(ADMIN)
@blp.doc(security=BEARER)
@blp.arguments(AdminUserArgs, location="query")
@blp.response(200, AdminUserOut(many=True))
@_errors()
def list_users(args: dict[str, Any]) -> list[User]:
    """List staff accounts by email; `q` searches email, name, role and department."""
    return accounts.search_users(args["q"])


@blp.route("/users", methods=["POST"])
@roles_required(ADMIN)
@blp.doc(security=BEARER)
@blp.arguments(AdminUserIn)
@blp.response(201, AdminUserOut)
@_errors(
    (400, "Not an email, or a role without its department or crew."),
    (404, "No such department or crew."),
    (409, "There is already an account for this email."),
    (422, "A missing field or an unknown role."),
)
def invite_user(data: dict[str, Any]) -> User:
    """Create an account and email its owner a one-time link to choose a password."""
    user = accounts.invite(
        email=data["email"],
        role=data["role"],
        name=data["name"],
        department_id=_department_id(data["department"]),
        crew_id=data["crew_id"],
    )
    db.session.commit()
    return user


@blp.route("/users/<int:user_id>", methods=["GET"])
@roles_required(ADMIN)
@blp.doc(security=BEARER)
@blp.response(200, AdminUserOut)
@_errors((404, "No such account."))
def get_user(user_id: int) -> User:
    """Return one staff account."""
    return accounts.get_user(user_id)


@blp.route("/users/<int:user_id>", methods=["PATCH"])
@roles_required(ADMIN)
@blp.doc(security=BEARER)
@blp.arguments(AdminUserPatch)
@blp.response(200, AdminUserOut)
@_errors(
    (400, "A role without its department or crew."),
    (404, "No such account, department or crew."),
    (409, "It would leave no active admin."),
)
def change_user(data: dict[str, Any], user_id: int) -> User:
    """Change the name, role, department or crew of an account, or (de)activate it."""
    user = accounts.get_user(user_id)
    changes: dict[str, Any] = {
        k: data[k] for k in ("name", "role", "active", "crew_id") if k in data
    }
    if "department" in data:
        changes["department_id"] = _department_id(data["department"])
    accounts.change_user(user, **changes)
    db.session.commit()
    return user


@blp.route("/users/<int:user_id>/password-reset", methods=["POST"])
@roles_required(ADMIN)
@blp.doc(security=BEARER)
@blp.response(202, AdminUserOut)
@_errors((404, "No such account."), (409, "The account is deactivated."))
def reset_password(user_id: int) -> User:
    """Void the password, end the sessions and tokens, and email a new set-password link."""
    user = accounts.reset_password(accounts.get_user(user_id))
    db.session.commit()
    return user


@blp.route("/tokens", methods=["GET"])
@roles_required(ADMIN)
@blp.doc(security=BEARER)
@blp.arguments(AdminTokenArgs, location="query")
@blp.response(200, AdminTokenOut(many=True))
@_errors()
def list_tokens(args: dict[str, Any]) -> list[ApiToken]:
    """List staff API tokens, newest first (never the tokens themselves)."""
    return accounts.list_tokens(args["q"], user_id=args["user_id"])


@blp.route("/tokens/<int:token_id>", methods=["DELETE"])
@roles_required(ADMIN)
@blp.doc(security=BEARER)
@blp.response(200, AdminTokenOut)
@_errors((404, "No such token."))
def revoke_token(token_id: int) -> ApiToken:
    """Revoke a staff API token at once; revoking it again changes nothing."""
    row = accounts.revoke_token(token_id)
    db.session.commit()
    return row

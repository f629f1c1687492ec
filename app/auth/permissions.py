"""Who may do what: role checks for views and API endpoints."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, redirect, request, url_for
from flask_login import current_user

from app.auth.roles import AGENT, DISPATCHER, SUPERVISORS
from app.core.errors import wants_json

F = TypeVar("F", bound=Callable[..., Any])


def roles_required(*roles: str) -> Callable[[F], F]:
    """Allow only signed-in users (session or bearer token) with one of these roles.

    401 without credentials (a login redirect for pages), 403 with the wrong role.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                if wants_json():
                    abort(
                        401,
                        "Sign in: send 'Authorization: Bearer <token>' "
                        "(tokens come from POST /api/v1/auth/tokens).",
                    )
                return redirect(url_for("auth.login", next=request.full_path))
            if current_user.role not in roles:
                abort(
                    403,
                    f"This needs the role {' or '.join(roles)}; "
                    f"you are signed in as {current_user.role}.",
                )
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorator


def can_see_department(department_id: int) -> bool:
    """Tell whether the current user may work the queue of this department."""
    if current_user.role in SUPERVISORS:
        return True
    return current_user.role == AGENT or (
        current_user.role == DISPATCHER and current_user.department_id == department_id
    )

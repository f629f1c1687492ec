"""Auth API: exchange credentials for a bearer token, revoke it, and say who is signed in."""

from __future__ import annotations

from typing import Any

from flask import abort, request
from flask_login import current_user
from flask_smorest import Api, Blueprint

from app.auth import lockout, service, signins
from app.auth.permissions import roles_required
from app.auth.roles import ROLES
from app.auth.schemas import AuthTokenIn, AuthTokenOut, AuthUserOut
from app.core.limits import RateLimited, limited
from app.extensions import db

BEARER_SCHEME = "bearerAuth"
#: the `security` requirement for endpoints that need a bearer token
BEARER: list[dict[str, list[str]]] = [{BEARER_SCHEME: []}]

blp = Blueprint(
    "auth_api",
    __name__,
    url_prefix="/api/v1",
    description="Staff API tokens: sign in with email and password, then send "
    "'Authorization: Bearer <token>'.",
)


def register_bearer_scheme(api: Api) -> None:
    """Declare the bearer security scheme in the OpenAPI document, once."""
    if BEARER_SCHEME not in api.spec.components.security_schemes:
        api.spec.components.security_scheme(
            BEARER_SCHEME,
            {
                "type": "http",
                "scheme": "bearer",
                "description": "A token from POST /api/v1/auth/tokens.",
            },
        )


def _presented_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@blp.route("/auth/tokens", methods=["POST"])
@blp.arguments(AuthTokenIn)
@blp.response(201, AuthTokenOut)
@blp.alt_response(401, description="The email or password is wrong, or the account is inactive.")
@blp.alt_response(
    429, response="DEFAULT_ERROR", description="Too many attempts, or the account is locked."
)
@limited("RATELIMIT_SIGN_IN", shared="sign-in")
def create_token(credentials: dict[str, Any]) -> dict[str, Any]:
    """Issue a bearer token for a staff account.

    Attempts are limited per client address (RATELIMIT_SIGN_IN), and an account is locked
    for a while after repeated failures; both answer 429 with Retry-After. Every attempt is
    in the audit.
    """
    try:
        user = lockout.authenticate(credentials["email"], credentials["password"])
    except RateLimited:
        signins.record(credentials["email"], None, via="api", outcome=signins.LOCKED)
        db.session.commit()
        raise
    signins.record(credentials["email"], user, via="api")
    if user is None:
        db.session.commit()  # the failed attempt's audit entry
        abort(401, "Email or password is wrong (or the account is deactivated).")
    token = service.issue_token(user)
    expires_at = service.token_expires_at(token)
    db.session.commit()
    return {"token": token, "expires_at": expires_at, "user": user}


@blp.route("/auth/tokens/current", methods=["DELETE"])
@blp.doc(security=BEARER)
@blp.response(204)
@roles_required(*ROLES)
def revoke_current_token() -> None:
    """Revoke the token this request is signed with (sign out an API client)."""
    token = _presented_token()
    if token is None:
        abort(400, "Send the token to revoke as 'Authorization: Bearer <token>'.")
    service.revoke_token(token)
    db.session.commit()


@blp.route("/auth/me", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, AuthUserOut)
@roles_required(*ROLES)
def me() -> Any:
    """Return the signed-in staff account."""
    return current_user._get_current_object()

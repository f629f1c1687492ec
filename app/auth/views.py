"""Staff sign-in and sign-out pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from app.auth import lockout, service
from app.auth.models import User
from app.auth.roles import ADMIN, AGENT, CREW, DISPATCHER, MANAGER
from app.core.limits import RateLimited, limited
from app.extensions import db

bp = Blueprint("auth", __name__)

#: where each role starts its day
ROLE_HOME = {
    AGENT: "requests.agent_new",
    DISPATCHER: "workorders.queue",
    CREW: "workorders.crew_home",
    MANAGER: "metrics.dashboard",
    ADMIN: "metrics.dashboard",
}


def safe_next(target: str | None) -> str | None:
    """Return `target` if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    # browsers treat "/\evil.example" like "//evil.example"; control characters hide tricks
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def home_for(user: User) -> str:
    """Return the URL of the page this user's role starts on."""
    for endpoint in (ROLE_HOME.get(user.role), "requests.report"):
        if endpoint:
            try:
                return url_for(endpoint)
            except BuildError:  # that feature is not installed in this app
                continue
    return "/"


@bp.route("/login", methods=["GET", "POST"])
@limited("RATELIMIT_SIGN_IN", methods=["POST"], shared="sign-in")
def login() -> Response | str | tuple[str, int] | tuple[str, int, dict[str, str]]:
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or home_for(current_user))
    email = ""
    error = None
    if request.method == "POST":
        email = (request.form.get("email") or "").strip()
        try:
            user = lockout.authenticate(email, request.form.get("password") or "")
        except RateLimited as locked:
            page = render_template(
                "auth/login.html", email=email, error=locked.message, next_url=next_url
            )
            return page, 429, locked.headers
        if user is not None:
            login_user(user)
            return redirect(next_url or home_for(user))
        error = "Email or password is wrong"
    page = render_template("auth/login.html", email=email, error=error, next_url=next_url)
    return (page, 401) if error else page


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if current_user.is_authenticated:
        # server-side: a copy of the cookie, kept or stolen, stops working too
        service.end_sessions(current_user._get_current_object())
        db.session.commit()
        logout_user()
        flash("You are signed out.", "success")
    return redirect(url_for("auth.login"))

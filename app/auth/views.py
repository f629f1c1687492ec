"""Staff sign-in and sign-out pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from app.auth import accounts, links, lockout, service, signins
from app.auth.models import User
from app.auth.roles import ADMIN, AGENT, CREW, DISPATCHER, MANAGER
from app.core.errors import DomainError
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
            signins.record(email, None, via="form", outcome=signins.LOCKED)
            db.session.commit()
            page = render_template(
                "auth/login.html", email=email, error=locked.message, next_url=next_url
            )
            return page, 429, locked.headers
        signins.record(email, user, via="form")
        db.session.commit()
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


@bp.route("/password/set/<token>", methods=["GET", "POST"])
def set_password(token: str) -> Response:
    """Choose a password from the link of an invitation or a reset; the link then dies."""
    user = links.user_for_token(token)  # a used or expired link: 404 with what to do
    error = None
    if request.method == "POST":
        password = request.form.get("password") or ""
        if password != (request.form.get("confirm") or ""):
            error = "The two passwords differ: type the same one twice."
        else:
            try:
                accounts.set_password_from_link(token, password)
            except DomainError as err:
                db.session.rollback()
                error = err.message
            else:
                db.session.commit()
                if current_user.is_authenticated:
                    logout_user()
                flash("Your password is set: sign in with it.", "success")
                return redirect(url_for("auth.login"), 303)
    page = make_response(
        render_template(
            "auth/set_password.html",
            user=user,
            token=token,
            error=error,
            min_length=service.MIN_PASSWORD_LENGTH,
        ),
        400 if error else 200,
    )
    # the URL is the credential: keep it out of caches and of the Referer of any next page
    page.headers["Cache-Control"] = "no-store"
    page.headers["Referrer-Policy"] = "no-referrer"
    return page

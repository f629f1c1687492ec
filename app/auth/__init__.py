"""auth feature package: staff accounts, sessions, bearer tokens, roles."""

from __future__ import annotations

from flask import Flask, Request, request

from app.auth import models as models  # noqa: F401  (registers the tables)
from app.extensions import db, login_manager

#: the JSON API's routes: bearer tokens only
API_PREFIX = "/api/"


def init_app(app: Flask) -> None:
    """Register the user loaders, and this feature's blueprints and commands."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."

    @login_manager.user_loader
    def load_user(user_id: str) -> models.User | None:
        # The JSON API authenticates by bearer token only: a browser's session cookie, sent
        # by any site's form or script, must not act there (no CSRF token is asked for).
        if is_api_request(request):
            return None
        # "<id>.<session version>": a session from before the last sign-out names an old one
        raw_id, _, version = user_id.partition(".")
        if not (raw_id.isascii() and raw_id.isdigit() and version.isascii() and version.isdigit()):
            return None
        user = db.session.get(models.User, int(raw_id))
        if user is None or user.session_version != int(version):
            return None
        return user

    @login_manager.request_loader
    def load_user_from_bearer(request: Request) -> models.User | None:
        from app.auth import service

        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return service.user_for_token(token.strip())

    _register_blueprints(app)


def is_api_request(req: Request) -> bool:
    """Tell whether the request is for the JSON API, which ignores the session cookie."""
    return req.path.startswith(API_PREFIX)


def _register_blueprints(app: Flask) -> None:
    from app.auth import admin_api, admin_views, views
    from app.auth import api as auth_api
    from app.extensions import api, csrf

    app.register_blueprint(views.bp)
    app.register_blueprint(admin_views.bp)
    auth_api.register_bearer_scheme(api)
    csrf.exempt(auth_api.blp)
    api.register_blueprint(auth_api.blp)
    csrf.exempt(admin_api.blp)
    api.register_blueprint(admin_api.blp)

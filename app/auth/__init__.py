"""auth feature package: staff accounts, sessions, bearer tokens, roles."""

from __future__ import annotations

from flask import Flask, Request

from app.auth import models as models  # noqa: F401  (registers the tables)
from app.extensions import db, login_manager


def init_app(app: Flask) -> None:
    """Register the user loaders, and this feature's blueprints and commands."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."

    @login_manager.user_loader
    def load_user(user_id: str) -> models.User | None:
        return db.session.get(models.User, int(user_id))

    @login_manager.request_loader
    def load_user_from_bearer(request: Request) -> models.User | None:
        from app.auth import service

        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return service.user_for_token(token.strip())

    _register_blueprints(app)


def _register_blueprints(app: Flask) -> None:
    from app.auth import api as auth_api
    from app.auth import views
    from app.extensions import api, csrf

    app.register_blueprint(views.bp)
    auth_api.register_bearer_scheme(api)
    csrf.exempt(auth_api.blp)
    api.register_blueprint(auth_api.blp)

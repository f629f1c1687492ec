"""open311 feature package: the GeoReport v2 API over requests.service."""

from __future__ import annotations

from flask import Flask

from app.open311 import models as models  # noqa: F401  (registers the tables)


def init_app(app: Flask) -> None:
    """Register the /open311 API, the API-key admin page and `flask open311`."""
    from app.extensions import csrf
    from app.open311 import commands, views

    csrf.exempt(views.bp)  # API clients have no session to forge; POST needs an api_key
    app.register_blueprint(views.bp)
    app.register_blueprint(views.admin_bp)
    views.register_app_error_handlers(app)
    app.cli.add_command(commands.open311_cli)

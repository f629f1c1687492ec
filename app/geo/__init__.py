"""geo feature package."""

from flask import Flask

from app.geo import models as models  # noqa: F401  (registers the tables)


def init_app(app: Flask) -> None:
    """Register `flask geo`, the address search API and the districts admin pages and API."""
    from app.extensions import api, csrf
    from app.geo import admin_api, admin_pages
    from app.geo import api as geo_api
    from app.geo.commands import geo_cli

    app.cli.add_command(geo_cli)
    api.register_blueprint(geo_api.blp)
    app.register_blueprint(admin_pages.bp)
    api.register_blueprint(admin_api.blp)
    csrf.exempt(admin_api.blp)

"""geo feature package."""

from flask import Flask

from app.geo import models as models  # noqa: F401  (registers the tables)


def init_app(app: Flask) -> None:
    """Register `flask geo` and the address search API."""
    from app.extensions import api
    from app.geo import api as geo_api
    from app.geo.commands import geo_cli

    app.cli.add_command(geo_cli)
    api.register_blueprint(geo_api.blp)

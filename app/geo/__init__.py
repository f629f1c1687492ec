"""geo feature package."""

from flask import Flask

from app.geo import models as models  # noqa: F401  (registers the tables)


def init_app(app: Flask) -> None:
    """Register `flask geo`."""
    from app.geo.commands import geo_cli

    app.cli.add_command(geo_cli)

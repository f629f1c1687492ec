"""workorders feature package."""

from flask import Flask

from app.workorders import models as models  # noqa: F401  (registers the tables)


def init_app(app: Flask) -> None:
    """Register this feature's blueprints, signals and commands."""

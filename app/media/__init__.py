"""media feature package: photo validation, storage, derivatives and public serving."""

from flask import Flask

from app.media import models as models  # noqa: F401  (registers the tables)


def init_app(app: Flask) -> None:
    """Register this feature's blueprints, signals and commands."""
    from app.media import views

    app.register_blueprint(views.bp)

"""media feature package: photo validation, storage, derivatives and public serving."""

from flask import Flask

from app.media import models as models  # noqa: F401  (registers the tables)


def init_app(app: Flask) -> None:
    """Register this feature's blueprints, signals and commands."""
    from app.core.queue import register_periodic
    from app.extensions import api, csrf
    from app.media import api as photos_api
    from app.media import storage, tasks, views

    storage.check_settings(app)
    app.register_blueprint(views.bp)
    # the resident's photo, sent ahead of the report (public, rate limited, no cookies used)
    api.register_blueprint(photos_api.blp)
    csrf.exempt(photos_api.blp)
    # re-make derivatives whose job Redis lost
    register_periodic(app, tasks.sweep_unprocessed, app.config["OUTBOX_SWEEP_SECONDS"])
    # uploads a rolled-back intake left behind; hourly is plenty for a 24 h limit
    register_periodic(app, tasks.delete_unattached, 3600)

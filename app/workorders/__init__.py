"""workorders feature package: crews, dispatch, and field close-out."""

from flask import Flask

from app.workorders import models as models  # noqa: F401  (registers the tables)


def init_app(app: Flask) -> None:
    """Register this feature's API and page blueprints."""
    from app.auth.api import register_bearer_scheme
    from app.extensions import api, csrf
    from app.workorders import staff_photos
    from app.workorders.api import blp
    from app.workorders.views import bp

    register_bearer_scheme(api)
    api.register_blueprint(blp)
    csrf.exempt(blp)
    app.register_blueprint(bp)
    app.register_blueprint(staff_photos.bp)

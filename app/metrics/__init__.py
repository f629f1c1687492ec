"""metrics feature package: read-only KPIs, the managers' dashboard and its API."""

from flask import Flask

from app.metrics import models as models  # noqa: F401  (registers the tables)


def init_app(app: Flask) -> None:
    """Register this feature's blueprints."""
    from app.auth.api import register_bearer_scheme
    from app.extensions import api, csrf
    from app.metrics import api as metrics_api
    from app.metrics import opendata_views, views

    app.register_blueprint(views.bp)
    app.register_blueprint(opendata_views.bp)
    register_bearer_scheme(api)
    csrf.exempt(metrics_api.blp)
    api.register_blueprint(metrics_api.blp)

"""metrics feature package: read-only KPIs, the managers' dashboard, the public
performance page, and the rollup tables that keep them fast."""

from flask import Flask

from app.metrics import models as models  # noqa: F401  (registers the tables)


def init_app(app: Flask) -> None:
    """Register this feature's blueprints, its command group and its rollup cron job."""
    from app.auth.api import register_bearer_scheme
    from app.extensions import api, csrf
    from app.metrics import api as metrics_api
    from app.metrics import kpi_api, opendata_views, public, rollup, views
    from app.metrics.commands import metrics_cli

    app.register_blueprint(views.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(opendata_views.bp)
    register_bearer_scheme(api)
    csrf.exempt(metrics_api.blp)
    csrf.exempt(kpi_api.blp)
    api.register_blueprint(metrics_api.blp)
    api.register_blueprint(kpi_api.blp)
    app.cli.add_command(metrics_cli)
    rollup.init_app(app)

"""sla: the city's clock for service targets: business hours, business days and holidays.

It sits below requests (which computes due times with it) and uses core only.
"""

from flask import Flask

from app.sla import models as models  # noqa: F401  (registers the tables)


def init_app(app: Flask) -> None:
    """Register `flask holidays` and the admin page of the holiday calendar."""
    from app.sla.commands import holidays_cli
    from app.sla.views import bp

    app.cli.add_command(holidays_cli)
    app.register_blueprint(bp)

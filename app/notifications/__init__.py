"""notifications feature package: the outbox and the reporter's emails."""

from flask import Flask

from app.notifications import models as models  # noqa: F401  (registers the tables)


def init_app(app: Flask) -> None:
    """Listen to request signals, sweep the outbox and send the overdue digest from the worker."""
    from app.core.queue import register_periodic
    from app.notifications import digest, service, tasks

    service.connect_signals(app)
    register_periodic(app, tasks.sweep_outbox, app.config["OUTBOX_SWEEP_SECONDS"])
    digest.init_app(app)

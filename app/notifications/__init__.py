"""notifications feature package: the outbox and the reporter's emails."""

from flask import Flask

from app.notifications import models as models  # noqa: F401  (registers the tables)


def init_app(app: Flask) -> None:
    """Owe notices (request signals, the intake receipt), wake and sweep; admin page and CLI."""
    from app.core.queue import register_periodic
    from app.core.wakeups import register_wakeup
    from app.extensions import api as smorest
    from app.extensions import csrf
    from app.notifications import (
        api,
        commands,
        digest,
        follow_views,
        personal_data,
        receipts,
        service,
        staff,
        survey,
        survey_views,
        tasks,
        updates,
        views,
        wording,
    )
    from app.requests.companions import add_companion

    app.add_template_filter(wording.long_datetime, "long_datetime")
    service.connect_signals(app)
    staff.connect_signals(app)
    updates.connect_signals(app)
    personal_data.connect_signals(app)
    app.register_blueprint(views.admin_bp)
    app.register_blueprint(survey_views.bp)
    app.register_blueprint(follow_views.bp)
    # the token is the authority, and mail clients post without a form (RFC 8058)
    csrf.exempt(follow_views.unsubscribe_now)
    csrf.exempt(api.blp)
    smorest.register_blueprint(api.blp)
    app.cli.add_command(commands.outbox_cli)
    # the receipt is written by the intake statement itself; every outbox row wakes a worker
    add_companion(app, receipts.RECEIPT)
    register_wakeup(app, tasks.OUTBOX_CHANNEL, tasks.wake)
    register_periodic(app, tasks.sweep_outbox, app.config["OUTBOX_SWEEP_SECONDS"])
    register_periodic(app, survey.ask_due, app.config["SURVEY_SWEEP_SECONDS"])
    digest.init_app(app)

"""flask outbox: list the notices given up after their last attempt, and send them again."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.core.errors import DomainError
from app.extensions import db
from app.notifications import service

outbox_cli = AppGroup("outbox", help="Inspect and resend outbox messages.")


@outbox_cli.command("failed")
@click.option("--limit", default=200, show_default=True, help="Show at most this many.")
def failed_cmd(limit: int) -> None:
    """List failed messages: id, event, request, recipient, attempts, last error."""
    rows = service.failed_rows(limit)
    if not rows:
        click.echo("No failed messages.")
        return
    for row in rows:
        click.echo(
            f"{row.id}\t{row.event}\t{row.request_id or '-'}\t{row.recipient}\t"
            f"{row.attempts}\t{row.last_error.splitlines()[0] if row.last_error else ''}"
        )


@outbox_cli.command("resend")
@click.argument("outbox_ids", nargs=-1, type=int, required=True)
def resend_cmd(outbox_ids: tuple[int, ...]) -> None:
    """Queue failed messages to be sent again."""
    for outbox_id in outbox_ids:
        try:
            service.resend(outbox_id)
        except DomainError as err:
            db.session.rollback()
            raise click.ClickException(err.message) from err
        db.session.commit()
        click.echo(f"Message {outbox_id} queued again.")

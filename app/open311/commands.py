"""flask open311 keys …: issue, list and revoke the API keys of Open311 client applications."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.core.errors import DomainError
from app.extensions import db
from app.open311 import keys

open311_cli = AppGroup("open311", help="The Open311 GeoReport v2 API.")
keys_cli = AppGroup("keys", help="API keys of client applications (needed to POST requests).")
open311_cli.add_command(keys_cli)


@keys_cli.command("create")
@click.option("--name", required=True, help="The client application, e.g. 'FixMyStreet'.")
@click.option("--contact", default="", help="Who runs it (an email address).")
def create_key(name: str, contact: str) -> None:
    """Issue a key and print it; it is shown only this once."""
    try:
        row, key = keys.create_key(name, contact)
    except DomainError as err:
        raise click.ClickException(err.message) from None
    db.session.commit()
    click.echo(f"API key for {row.client_name} (prefix {row.key_prefix}); store it now:")
    click.echo(key)


@keys_cli.command("list")
def list_keys() -> None:
    """List the keys: prefix, application, contact, state, last use."""
    rows = keys.list_keys()
    if not rows:
        click.echo("No API keys yet: `flask open311 keys create --name APP`.")
        return
    for row in rows:
        state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
        used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never"
        click.echo(
            f"{row.key_prefix}  {row.client_name}  <{row.contact or '-'}>  {state}  "
            f"last used {used}  limit {row.rate_limit or 'none'}"
        )


@keys_cli.command("revoke")
@click.option("--prefix", required=True, help="The key's prefix, as `keys list` shows it.")
def revoke_key(prefix: str) -> None:
    """Revoke a key at once: its application can no longer submit requests."""
    try:
        row = keys.revoke_key(prefix=prefix)
    except DomainError as err:
        raise click.ClickException(err.message) from None
    db.session.commit()
    click.echo(f"Revoked {row.key_prefix} ({row.client_name}).")


@keys_cli.command("limit")
@click.option("--prefix", required=True, help="The key's prefix, as `keys list` shows it.")
@click.option(
    "--rate", required=True, help="e.g. '100/minute' or '100/minute;2000/day'; '' for unlimited."
)
def limit_key(prefix: str, rate: str) -> None:
    """Limit how many requests a key's client may submit (keys are unlimited by default)."""
    try:
        row = keys.set_rate_limit(prefix, rate)
    except DomainError as err:
        raise click.ClickException(err.message) from None
    db.session.commit()
    click.echo(f"{row.key_prefix} ({row.client_name}): {row.rate_limit or 'unlimited'}.")

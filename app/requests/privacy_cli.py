"""flask privacy: the retention purge, a resident's export and erasure (requests/privacy.py)."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from app.extensions import db
from app.requests import privacy

privacy_cli = AppGroup("privacy", help="Personal data: retention purge, export, erasure.")


@privacy_cli.command("purge")
def purge_cmd() -> None:
    """Remove personal data from requests closed more than PRIVACY_RETENTION_DAYS ago."""
    result = privacy.purge()
    details = ", ".join(f"{key} {value}" for key, value in sorted(result.counts.items()))
    click.echo(f"Purged {result.requests} requests" + (f" ({details})." if details else "."))


@privacy_cli.command("export")
@click.option("--email", required=True, help="The resident's email address.")
@click.option(
    "--output", type=click.Path(dir_okay=False, writable=True), help="Write here, not to stdout."
)
def export_cmd(email: str, output: str | None) -> None:
    """Print (or write) as JSON every request and follow of an address, and its messages."""
    text = json.dumps(privacy.export(email), indent=2, ensure_ascii=False, default=str)
    if output:
        with open(output, "w", encoding="utf-8") as out:
            out.write(text + "\n")
        click.echo(f"Written to {output}.", err=True)
    else:
        click.echo(text)


@privacy_cli.command("erase")
@click.option("--email", required=True, help="The resident's email address.")
@click.confirmation_option(prompt="Erase this address's contact data from every request?")
def erase_cmd(email: str) -> None:
    """Remove an address's contact data from every request and subscription (audited)."""
    counts = privacy.erase(email)
    db.session.commit()
    click.echo("Erased: " + ", ".join(f"{key} {value}" for key, value in counts.items()) + ".")

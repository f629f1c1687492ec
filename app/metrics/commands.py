"""flask metrics …: rebuild or refresh the dashboard's rollup tables."""

from __future__ import annotations

import time
from datetime import date

import click

from app.extensions import db
from app.metrics import rollup

metrics_cli = click.Group("metrics", help="Dashboard rollup tables.")


@metrics_cli.command("rebuild")
def rebuild_cmd() -> None:
    """Recompute every rollup row from the raw requests (after an import, or to repair)."""
    started = time.perf_counter()

    def progress(month: date) -> None:
        click.echo(f"  {month:%Y-%m}", nl=False)

    months = rollup.rebuild(progress=progress)
    db.session.commit()
    click.echo(f"\nRebuilt {months} months of rollups in {time.perf_counter() - started:.1f} s.")


@metrics_cli.command("refresh")
def refresh_cmd() -> None:
    """Recompute only the days changed since the last run (what the worker does each minute)."""
    days = rollup.refresh()
    db.session.commit()
    click.echo("Rebuilt everything (first run)." if days < 0 else f"Recomputed {days} days.")

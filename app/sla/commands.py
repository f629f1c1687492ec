"""flask holidays …: keep the city's holiday calendar, which business-day SLAs skip."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.core.errors import DomainError
from app.extensions import db
from app.sla import service

holidays_cli = AppGroup("holidays", help="The holiday calendar that business-day SLAs skip.")


def _fail(err: DomainError) -> click.ClickException:
    db.session.rollback()
    return click.ClickException(err.message)


@holidays_cli.command("add")
@click.argument("day")
@click.argument("name")
def add(day: str, name: str) -> None:
    """Add a holiday: DAY as YYYY-MM-DD, then its NAME."""
    try:
        holiday = service.add_holiday(day, name)
    except DomainError as err:
        raise _fail(err) from None
    db.session.commit()
    click.echo(f"{holiday.day.isoformat()}  {holiday.name}")


@holidays_cli.command("list")
@click.option("--year", type=int, default=None, help="Only this year's holidays.")
def list_(year: int | None) -> None:
    """List the holidays by date."""
    rows = service.list_holidays(year)
    if not rows:
        click.echo('No holidays yet: `flask holidays add 2026-12-25 "Christmas Day"`.')
    for holiday in rows:
        click.echo(f"{holiday.day.isoformat()}  {holiday.day:%a}  {holiday.name}")


@holidays_cli.command("remove")
@click.argument("day")
def remove(day: str) -> None:
    """Remove the holiday on DAY (YYYY-MM-DD)."""
    try:
        holiday = service.remove_holiday(day)
    except DomainError as err:
        raise _fail(err) from None
    db.session.commit()
    click.echo(f"Removed {holiday.day.isoformat()} {holiday.name}.")


@holidays_cli.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def load(path: Path) -> None:
    """Load holidays from a CSV file with the columns date,name; all rows or none."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            count = service.load_holidays(fh)
    except DomainError as err:
        raise _fail(err) from None
    db.session.commit()
    click.echo(f"Loaded {count} holidays from {path.name}.")

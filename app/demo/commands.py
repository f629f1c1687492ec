"""flask demo …"""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import text

from app.demo import boston, builtin, loader
from app.extensions import db

demo_cli = click.Group("demo", help="Load demo data.")


def default_data_dir() -> Path:
    """Return ../shared/data next to the repository, where the city-published data lives."""
    return Path(current_app.root_path).parent.parent / "shared" / "data"


@demo_cli.command("load")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder with boston_311_2011/ and boston_boundaries/ (default: ../shared/data).",
)
@click.option("--builtin", "use_builtin", is_flag=True, help="Load the small built-in city.")
@click.option("--reset", is_flag=True, help="Delete ALL city data first, then load again.")
@click.option(
    "--history",
    type=click.IntRange(min=0),
    default=5000,
    show_default=True,
    help="Boston only: about how many historical 2011 requests to import, spread over the "
    "half-year (0 to skip; 60000 for all).",
)
def load_cmd(data_dir: Path | None, use_builtin: bool, reset: bool, history: int) -> None:
    """Load a demo city: Boston's real 2011 data when available, else a built-in one.

    Creates departments, service types with SLAs, wards, crews, requests and one account per
    role, and prints the accounts' passwords once. Does nothing if a city is already loaded.
    """
    if data_dir is not None and use_builtin:
        raise click.UsageError("Use either --data DIR or --builtin, not both.")
    if data_dir is not None and not boston.data_available(data_dir):
        raise click.UsageError(
            f"{data_dir} does not hold {boston.CSV_PATH} and {boston.WARDS_PATH}."
        )
    if data_dir is None and not use_builtin:
        data_dir = default_data_dir()
        if not boston.data_available(data_dir):
            click.echo(f"No Boston data in {data_dir}: loading the built-in demo city.")
            data_dir = None

    if loader.is_loaded():
        if not reset:
            counts = loader.city_counts()
            click.echo(
                "A city is already loaded ({departments} departments, {districts} districts, "
                "{users} staff accounts); nothing was changed.".format(**counts)
            )
            click.echo(
                "Demo passwords are shown only when the demo is first loaded. To delete all "
                "city data and load again: flask demo load --reset"
            )
            return
        tables = loader.reset_city()
        click.echo(f"Deleted all city data ({len(tables)} tables emptied).")

    started = time.monotonic()
    if data_dir is None:
        report = builtin.load()
    else:
        click.echo(f"Loading Boston from {data_dir} …")
        report = boston.load(data_dir, history=history)
    db.session.commit()
    # the planner's statistics for the tables just filled: fast queries from the first page
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    _print_report(report, time.monotonic() - started)


def _print_report(report: loader.LoadReport, seconds: float) -> None:
    click.echo(
        f"Loaded {report.city} in {seconds:.1f} s: {report.departments} departments, "
        f"{report.service_types} service types, {report.districts} wards, {report.crews} crews, "
        f"{report.requests} recent requests"
        + (f", {report.imported} historical requests" if report.imported else "")
        + (f" ({report.unlocated} with the location unknown)" if report.unlocated else "")
        + (f", {report.places} gazetteer addresses and intersections" if report.places else "")
        + "."
    )
    for what, count in report.skipped.items():
        if count:
            click.echo(f"  skipped {count} rows: {what}")
    if report.city != current_app.config["CITY_NAME"] and report.city.startswith("Boston"):
        click.echo("  (set CITY_NAME='City of Boston' to show the city's name on the pages)")
    click.echo("")
    click.echo("Demo accounts (the passwords are shown only now; write them down):")
    rows = [("role", "email", "password", "")] + [
        (a.role, a.email, a.password, a.detail) for a in report.accounts
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for n, row in enumerate(rows):
        click.echo("  " + "  ".join(row[i].ljust(widths[i]) for i in range(3)) + "  " + row[3])
        if n == 0:
            click.echo("  " + "  ".join("-" * w for w in widths))

"""flask import …: bring in a city's own data."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from app.geo.routing import routing_kind
from app.imports import driver

import_cli = click.Group(
    "import", help="Import a city's own data: district boundaries and its 311 history."
)


@import_cli.command("requests")
@click.option(
    "--format",
    "format_name",
    type=click.Choice(sorted(driver.FORMATS)),
    required=True,
    help="The export's format: "
    + "; ".join(f"{f.name}: {f.description}" for f in driver.FORMATS.values()),
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--batch-size",
    type=click.IntRange(min=1, max=100_000),
    default=driver.DEFAULT_BATCH,
    show_default=True,
    help="Rows stored per transaction: a batch is stored whole or not at all.",
)
@click.option(
    "--errors",
    "errors_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write every bad row (line, case number, reason) to this CSV file.",
)
def requests_cmd(format_name: str, file: Path, batch_size: int, errors_path: Path | None) -> None:
    """Import the service requests of a city's own 311 export FILE (csv).

    Departments and service types are matched by name or created; each row keeps its
    times, status, closure, SLA due time and channel, and is placed in its district. Rows
    imported before (the same case number) are skipped, so running it again adds nothing.
    """
    fmt = driver.FORMATS[format_name]
    if not driver.districts_loaded():
        raise click.ClickException(
            f"No districts of kind {routing_kind()!r} are loaded: load them first "
            "(flask import districts FILE.geojson --kind …); without them no request "
            "could be placed."
        )
    errors = errors_path.open("w", newline="", encoding="utf-8") if errors_path else None
    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        disable=not sys.stdout.isatty(),
    )
    try:
        with progress:
            task = progress.add_task(file.name, total=file.stat().st_size)
            report = driver.import_file(
                file,
                fmt,
                batch_size=batch_size,
                errors=errors,
                progress=lambda n: progress.advance(task, n),
            )
    except driver.ImportFileError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        if errors is not None:
            errors.close()
    print_report(report, errors_path)
    if report.failed_batches:
        sys.exit(1)


def print_report(report: driver.ImportReport, errors_path: Path | None) -> None:
    click.echo(
        f"Read {report.rows} rows in {report.seconds:.1f} s: {report.imported} imported "
        f"({report.unlocated} with the location unknown), {report.already} imported before, "
        f"{report.bad} bad, {report.failed_rows} in batches not stored."
    )
    for what in report.failed_batches:
        click.echo(f"  {what}")
    if report.examples:
        shown = len(report.examples)
        click.echo(f"Bad rows{f' (the first {shown})' if shown < report.bad else ''}:")
        for bad in report.examples:
            click.echo(
                f"  line {bad.line}{f' (case {bad.case_id})' if bad.case_id else ''}: {bad.reason}"
            )
    if report.bad and errors_path is not None:
        click.echo(f"Every bad row is in {errors_path}.")

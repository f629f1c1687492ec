"""flask geo …: load the city's master address list (the gazetteer)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import click
from flask.cli import with_appcontext

from app.core.errors import DomainError
from app.extensions import db
from app.geo import boundaries, gazetteer, replace

geo_cli = click.Group("geo", help="Districts and the address gazetteer.")

#: rows written per statement batch
BATCH = 5000


def read_addresses(path: Path, columns: dict[str, str]) -> list[gazetteer.Located]:
    """Read a CSV of addresses; raise click.ClickException listing the bad rows."""
    entries: list[gazetteer.Located] = []
    errors: list[str] = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in columns.values() if c not in (reader.fieldnames or [])]
        if missing:
            raise click.ClickException(
                f"{path} has no column {', '.join(missing)}; its columns are "
                f"{', '.join(reader.fieldnames or [])} (choose them with --id-column, "
                "--address-column, --lat-column and --long-column)."
            )
        for line, row in enumerate(reader, start=2):
            address_id = (row[columns["id"]] or "").strip()
            address = (row[columns["address"]] or "").strip()
            try:
                lat, long = float(row[columns["lat"]]), float(row[columns["long"]])
            except (TypeError, ValueError):
                lat = long = math.nan
            if not address_id or not address:
                errors.append(f"line {line}: the address id and the address are required")
            elif not (-90 <= lat <= 90 and -180 <= long <= 180):
                errors.append(f"line {line}: lat/long must be decimal degrees")
            else:
                entries.append(gazetteer.Located(address_id[:100], address[:400], lat, long))
    if errors:
        shown = "\n  ".join(errors[:20])
        more = f"\n  … and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise click.ClickException(f"Nothing was loaded; fix these rows:\n  {shown}{more}")
    return entries


@geo_cli.command("load-addresses")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--id-column", default="address_id", show_default=True)
@click.option("--address-column", default="address", show_default=True)
@click.option("--lat-column", default="lat", show_default=True)
@click.option("--long-column", default="long", show_default=True)
@with_appcontext
def load_addresses_cmd(
    csv_file: Path, id_column: str, address_column: str, lat_column: str, long_column: str
) -> None:
    """Load (add or replace) gazetteer addresses from a CSV file, all or nothing.

    Open311 clients may then locate requests by address_string or address_id.
    """
    columns = {"id": id_column, "address": address_column, "lat": lat_column, "long": long_column}
    entries = read_addresses(csv_file, columns)
    for start in range(0, len(entries), BATCH):
        gazetteer.load_addresses(entries[start : start + BATCH])
    db.session.commit()
    click.echo(f"Loaded {len(entries)} addresses into the gazetteer.")


@click.command("districts")
@click.argument("geojson_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", required=True, help="The district kind, e.g. ward or council_district.")
@click.option("--code-property", required=True, help="The feature property holding the code.")
@click.option(
    "--name-property", default="", help="The property holding the name (default: Kind CODE)."
)
@click.option("--dry-run", is_flag=True, help="Say what would change; change nothing.")
@with_appcontext
def import_districts_cmd(
    geojson_file: Path, kind: str, code_property: str, name_property: str, dry_run: bool
) -> None:
    """Load or replace all the districts of a kind from a GeoJSON file (WGS 84), all or nothing.

    Districts keep their identity by code; open requests are re-tagged when the kind is the
    routing kind; a file that would leave open requests outside every district is refused.
    """
    try:
        found = boundaries.read_boundaries(
            geojson_file.read_bytes(),
            kind=kind,
            code_property=code_property,
            name_property=name_property,
        )
        done = replace.replace_districts(
            kind, found, apply=not dry_run, source=f"flask import districts {geojson_file.name}"
        )
    except DomainError as err:
        db.session.rollback()
        raise click.ClickException(err.message) from None
    db.session.commit()
    verb = "Would change" if dry_run else "Loaded"
    click.echo(
        f"{verb} {len(found)} {kind} districts: {len(done.added)} added, "
        f"{len(done.changed)} changed, {len(done.removed)} removed, "
        f"{len(done.unchanged)} unchanged; {done.moved} open requests change district"
        + (f"; {len(done.repaired)} invalid polygons repaired" if done.repaired else "")
        + (f"; {done.outside} open requests would be outside every {kind}" if dry_run else "")
        + "."
    )


@geo_cli.command("load-intersections")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def load_intersections_cmd(csv_file: Path) -> None:
    """Load (add or replace) intersections from a CSV of street_a, street_b, lat, long.

    Residents and call-takers then find them by typing "A St & B St" in the address box.
    """
    columns = {"id": "street_a", "address": "street_b", "lat": "lat", "long": "long"}
    # the same checks as addresses: both names present, lat/long in range
    rows = read_addresses(csv_file, columns)
    crossings = [gazetteer.Crossing(r.address_id, r.address, r.lat, r.long) for r in rows]
    gazetteer.load_intersections(crossings)
    db.session.commit()
    click.echo(f"Loaded {len(crossings)} intersections into the gazetteer.")

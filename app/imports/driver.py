"""Stream an export into the database: parse, match the catalogue, store batch by batch.

Memory stays constant whatever the file's size: rows are read with the csv module one at a
time and held only until their batch is stored. Each batch is one transaction: it is stored
whole or, if the database refuses any of it, not at all (the report names its lines). A row
that cannot be read is reported with its line number and reason, and the import goes on.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import psycopg
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app.core.errors import DomainError
from app.extensions import db
from app.geo.models import District
from app.geo.routing import routing_kind
from app.imports import boston, kcmo, la, nyc
from app.imports.catalogue import Catalogue
from app.imports.rows import CityRow, Format, RowError
from app.requests import importer

FORMATS: dict[str, Format] = {
    f.name: f for f in (boston.FORMAT, nyc.FORMAT, kcmo.FORMAT, la.FORMAT)
}
DEFAULT_BATCH = 5000
#: bad rows listed in the report; the --errors file has them all
EXAMPLES = 20


class ImportFileError(DomainError):
    """The file cannot be imported at all (wrong format, missing columns, unreadable)."""


@dataclass
class BadRow:
    line: int
    case_id: str
    reason: str


@dataclass
class ImportReport:
    format: str
    rows: int = 0
    imported: int = 0
    #: stored, with the location unknown (no point, a placeholder, outside every district)
    unlocated: int = 0
    #: skipped: imported before (the same case number from the same source)
    already: int = 0
    bad: int = 0
    #: rows of batches the database refused, and why, by their lines
    failed_rows: int = 0
    failed_batches: list[str] = field(default_factory=list)
    examples: list[BadRow] = field(default_factory=list)
    seconds: float = 0.0


def columns(header: Iterable[str]) -> list[str]:
    """Return the column names as the formats name them: trimmed, lower-case, no BOM."""
    return [name.lstrip("\ufeff").strip().lower() for name in header]


def check_header(fmt: Format, header: list[str], name: str) -> None:
    """:raises ImportFileError: a required column is missing (naming it and a likelier format)."""
    missing = [c for c in fmt.required if c not in header]
    if not missing:
        return
    likely = [f.name for f in FORMATS.values() if all(c in header for c in f.required)]
    hint = f" It looks like --format {likely[0]}." if likely else ""
    raise ImportFileError(
        f"{name} is not a {fmt.name} export: it lacks the column"
        f"{'s' if len(missing) > 1 else ''} {', '.join(repr(c) for c in missing)}.{hint}"
    )


def _counted(lines: Iterable[str], progress: Callable[[int], None] | None) -> Iterator[str]:
    for line in lines:
        if progress is not None:
            progress(len(line))
        yield line


def read_rows(
    fh: Iterable[str], fmt: Format, name: str, progress: Callable[[int], None] | None = None
) -> Iterator[tuple[int, dict[str, str], str]]:
    """Yield (line number, row by lower-case column, problem) of each data row.

    The problem is "" for a well-formed row, else why its fields cannot be trusted.

    :raises ImportFileError: the header lacks a required column, or the csv is damaged.
    """
    reader = csv.reader(_counted(fh, progress))
    try:
        header = columns(next(reader, []))
        check_header(fmt, header, name)
        line = reader.line_num + 1
        for values in reader:
            if any(v.strip() for v in values):
                problem = ""
                if len(values) != len(header):
                    problem = f"{len(values)} fields where the header has {len(header)}"
                yield line, dict(zip(header, values, strict=False)), problem
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ImportFileError(f"{name}, line {reader.line_num}: unreadable csv ({exc}).") from None


class Importer:
    """One file's import: the batch being built, the catalogue met so far, the report."""

    def __init__(self, fmt: Format, *, batch_size: int, errors: TextIO | None) -> None:
        self.fmt = fmt
        self.batch_size = batch_size
        self.catalogue = Catalogue()
        self.report = ImportReport(format=fmt.name)
        self.errors = csv.writer(errors) if errors is not None else None
        if self.errors is not None:
            self.errors.writerow(["line", "case_id", "reason"])
        self.batch: list[tuple[int, CityRow]] = []
        self.batch_lines: dict[str, int] = {}

    def bad(self, line: int, case_id: str, reason: str) -> None:
        self.report.bad += 1
        if len(self.report.examples) < EXAMPLES:
            self.report.examples.append(BadRow(line, case_id, reason))
        if self.errors is not None:
            self.errors.writerow([line, case_id, reason])

    def add(self, line: int, row: dict[str, str], problem: str = "") -> None:
        self.report.rows += 1
        try:
            if problem:
                raise RowError(problem)
            parsed = self.fmt.parse(row)
        except RowError as exc:
            self.bad(line, (row.get(self.fmt.required[0]) or "").strip(), str(exc))
            return
        first = self.batch_lines.get(parsed.case_id)
        if first is not None:
            self.bad(line, parsed.case_id, f"the case number is already on line {first}")
            return
        self.batch_lines[parsed.case_id] = line
        self.batch.append((line, parsed))
        if len(self.batch) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Store the batch in one transaction, or nothing of it."""
        batch, self.batch, self.batch_lines = self.batch, [], {}
        if not batch:
            return
        try:
            requests = [r for r in (self._request(line, row) for line, row in batch) if r]
            result = importer.import_requests(requests, analyze=False)
            db.session.commit()
        except (DomainError, SQLAlchemyError, psycopg.Error) as exc:
            db.session.rollback()
            # what the batch created went with it
            self.catalogue.forget()
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            self.report.failed_rows += len(batch)
            self.report.failed_batches.append(
                f"lines {batch[0][0]}–{batch[-1][0]} ({len(batch)} rows) not stored: {reason}"
            )
            return
        self.report.imported += result.imported
        self.report.unlocated += result.unlocated
        self.report.already += result.skipped

    def _request(self, line: int, row: CityRow) -> importer.HistoricalRequest | None:
        try:
            department_id, department_code = self.catalogue.department(
                row.department_code, row.department_name
            )
            service_code = self.catalogue.service_type(row.service_name, department_id, row.group)
        except DomainError as exc:
            self.bad(line, row.case_id, str(exc))
            return None
        return importer.HistoricalRequest(
            service_code=service_code,
            department_code=department_code,
            description=row.description,
            lat=row.lat,
            long=row.long,
            requested_at=row.requested_at,
            address=row.address,
            due_at=row.due_at,
            closed_at=row.closed_at,
            closure_reason=row.closure_reason,
            closure_note=row.closure_note,
            channel=row.channel,
            import_source=self.fmt.source,
            external_id=row.case_id,
            source=row.source,
        )


def districts_loaded() -> bool:
    kind = routing_kind()
    return db.session.scalar(select(District.id).where(District.kind == kind).limit(1)) is not None


def import_file(
    path: Path,
    fmt: Format,
    *,
    batch_size: int = DEFAULT_BATCH,
    errors: TextIO | None = None,
    progress: Callable[[int], None] | None = None,
    every: int = 1,
) -> ImportReport:
    """Import an export file, committing batch by batch; return what happened.

    `every` keeps one data row in so many (a sample spread over the whole file).

    :raises ImportFileError: the file is not of this format (before any row is stored), or
        its csv is damaged (the batches before the damage stay stored).
    """
    started = time.monotonic()
    run = Importer(fmt, batch_size=batch_size, errors=errors)
    with path.open(newline="", encoding=fmt.encoding, errors="replace") as fh:
        for n, (line, row, problem) in enumerate(read_rows(fh, fmt, path.name, progress)):
            if n % every == 0:
                run.add(line, row, problem)
        run.flush()
    if run.report.imported:
        importer.analyze_history()
        db.session.commit()
    run.report.seconds = time.monotonic() - started
    return run.report

"""Tables as CSV downloads: the same rows the JSON and the pages show."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import asdict, is_dataclass
from typing import Any

from flask import Response

#: the columns of a KPI table, in the order a spreadsheet reads them
FIGURE_COLUMNS = (
    "key",
    "name",
    "volume",
    "acknowledged",
    "median_hours_to_acknowledge",
    "closed",
    "closed_counted",
    "closed_duplicate",
    "closed_referred",
    "closed_no_action",
    "median_hours_to_close",
    "p90_hours_to_close",
    "median_hours_to_close_excluding_holds",
    "p90_hours_to_close_excluding_holds",
    "within_sla",
    "pct_within_sla",
    "reopened",
    "reopen_rate",
    "transferred",
    "transfer_rate",
    "open_backlog",
    "overdue",
    "small_sample",
)


def _cell(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value  # a spreadsheet must not run a name as a formula
    return "" if value is None else value


def csv_response(
    filename: str, rows: Iterable[Any], columns: Sequence[str] | None = None
) -> Response:
    """Return `rows` (dataclasses or dicts) as a CSV attachment with a header line."""
    items = [asdict(r) if is_dataclass(r) and not isinstance(r, type) else dict(r) for r in rows]
    if columns is None:
        columns = list(items[0]) if items else []
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for item in items:
        writer.writerow([_cell(item.get(c)) for c in columns])
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

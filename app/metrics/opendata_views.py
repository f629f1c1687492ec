"""The open-data downloads: anyone may fetch them, no login, no key."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Response, current_app, render_template, request, stream_with_context

from app.core.replica import reads_from_replica
from app.metrics import opendata

bp = Blueprint("opendata", __name__)

#: published data changes slowly; let browsers and proxies keep a copy for a few minutes
_CACHE = "public, max-age=300"


@bp.route("/open-data")
def index() -> str:
    """Describe the datasets, their columns and the privacy rules, with download links."""
    return render_template(
        "metrics/open_data.html",
        columns=opendata.COLUMNS,
        aggregate_columns=opendata.AGGREGATE_COLUMNS,
        min_cell=current_app.config["OPEN_DATA_MIN_CELL"],
        grid_metres=current_app.config["PUBLIC_LOCATION_GRID_METRES"],
    )


@bp.route("/open-data/requests.csv")
@reads_from_replica
def requests_csv() -> Response:
    """Every request the filters select, one row each."""
    filters = opendata.parse_filters(request.args)
    return _download(
        opendata.csv_chunks(opendata.rows(filters), opendata.COLUMNS),
        "text/csv; charset=utf-8",
        "requests.csv",
    )


@bp.route("/open-data/requests.geojson")
@reads_from_replica
def requests_geojson() -> Response:
    """The same rows as GeoJSON points."""
    filters = opendata.parse_filters(request.args)
    return _download(
        opendata.geojson_chunks(opendata.rows(filters)), "application/geo+json", "requests.geojson"
    )


@bp.route("/open-data/counts.csv")
@reads_from_replica
def counts_csv() -> Response:
    """Requests per month, district and service type, small cells withheld."""
    filters = opendata.parse_filters(request.args)
    return _download(
        opendata.csv_chunks(opendata.aggregates(filters), opendata.AGGREGATE_COLUMNS),
        "text/csv; charset=utf-8",
        "counts.csv",
    )


def _download(chunks: Iterator[str], mimetype: str, filename: str) -> Response:
    # the rows are read while the response is written, so the request context stays open
    response = Response(stream_with_context(chunks), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = _CACHE
    return response

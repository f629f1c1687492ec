"""Running `flask import requests` in a test and counting what it stored."""

from __future__ import annotations

import csv
from pathlib import Path

from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.requests.models import RequestEvent, ServiceRequest

BOSTON_HEADER = [
    "case_enquiry_id",
    "open_dt",
    "target_dt",
    "closed_dt",
    "ontime",
    "case_status",
    "closure_reason",
    "case_title",
    "subject",
    "reason",
    "type",
    "queue",
    "department",
    "location",
    "ward",
    "latitude",
    "longitude",
    "source",
]


def boston_row(case_id: str, **values: str) -> dict[str, str]:
    """A Boston export row in ward 1 of the test city, closed as resolved, with its SLA."""
    row = {
        "case_enquiry_id": case_id,
        "open_dt": "2011-07-01 09:30:00",
        "target_dt": "2011-07-03 09:30:00",
        "closed_dt": "2011-07-02 10:00:00",
        "ontime": "ONTIME",
        "case_status": "Closed",
        "closure_reason": "Case Closed Case Resolved filled the hole ",
        "case_title": "Pothole on the corner",
        "subject": "Public Works Department",
        "reason": "Highway Maintenance",
        "type": "Request for Pothole Repair",
        "queue": "PWDx_District 1",
        "department": "PWDx",
        "location": "1 Main St",
        "ward": "Ward 1",
        "latitude": "42.32",
        "longitude": "-71.08",
        "source": "Constituent Call",
    }
    row.update(values)
    return row


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def run_import(app: Flask, path: Path, fmt: str = "boston", *options: str) -> Result:
    return app.test_cli_runner().invoke(
        args=["import", "requests", "--format", fmt, str(path), *options]
    )


def imported(source: str = "boston") -> dict[str, ServiceRequest]:
    """The stored requests of a source, by the city's case number."""
    rows = db.session.scalars(select(ServiceRequest).where(ServiceRequest.import_source == source))
    return {sr.external_id or "": sr for sr in rows}


def counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(ServiceRequest)) or 0,
        db.session.scalar(select(func.count()).select_from(RequestEvent)) or 0,
    )

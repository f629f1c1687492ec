"""Boston as the demo city, built from the city's own 2011 311 export and ward polygons.

Departments, service types and SLA targets come from the export itself, wards from the
boundary file, and the history is imported by the Boston importer (app.imports), exactly as
`flask import requests --format boston` does. Quirks of the data handled here:

- `ward` is spelled "Ward 17" or "17" (or "03"); only the number counts.
- Some target dates lie decades ahead: for a type's SLA a target counts only if
  0 < target - open < 365 days, and the type's SLA is the median of those.
"""

from __future__ import annotations

import csv
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from app.auth.roles import AGENT
from app.demo import boston_gazetteer, builtin, loader
from app.extensions import db
from app.imports import boston as boston_format
from app.imports import driver
from app.imports.rows import RowError, parse_time

CSV_PATH = Path("boston_311_2011") / "311_service_requests_2011.csv"
WARDS_PATH = Path("boston_boundaries") / "boston_wards.geojson"
DEFAULT_SLA_HOURS = 72
MAX_SANE_TARGET = timedelta(days=365)

#: short, stable codes for the types every 311 client knows
WELL_KNOWN_CODES = {
    "Request for Pothole Repair": "pothole",
    "Street Light Outages": "streetlight",
    "Graffiti Removal": "graffiti",
}
#: the `subject` column names the department for most codes; these borrow another's name
KNOWN_DEPARTMENT_NAMES = {
    "BWSC": "Boston Water & Sewer Commission",
    "DISB": "Commission for Persons with Disabilities",
    "BPS_": "Boston Public Schools",
    "BHA_": "Boston Housing Authority",
    "No Q": "No queue",
}
QUESTIONS = {
    "pothole": builtin.POTHOLE_QUESTIONS,
    "streetlight": builtin.STREETLIGHT_QUESTIONS,
    "graffiti": builtin.GRAFFITI_QUESTIONS,
}
RECENT_SAMPLES = [
    ("pothole", "Pothole in the crosswalk, about a foot wide.", "Tremont St & Boylston St"),
    ("streetlight", "Streetlight out in front of the library.", "700 Boylston St"),
    ("graffiti", "Tags sprayed on the mailbox and the wall behind it.", "Centre St & Green St"),
    ("pothole", "Several potholes after the water main work.", "Dorchester Ave & Savin Hill Ave"),
    ("streetlight", "Light flickers all night.", "Blue Hill Ave & Morton St"),
]


def data_available(data_dir: Path) -> bool:
    return (data_dir / CSV_PATH).is_file() and (data_dir / WARDS_PATH).is_file()


def read_rows(data_dir: Path) -> list[dict[str, str]]:
    with (data_dir / CSV_PATH).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")[:80]


def ward_number(value: str) -> str | None:
    """Normalise "Ward 07", "07" and "7" to "7"; None when blank."""
    digits = re.sub(r"\D", "", value or "")
    return str(int(digits)) if digits else None


def _time(row: dict[str, str], column: str) -> datetime | None:
    try:
        return parse_time(row, column, boston_format.TZ, boston_format.TIME_FORMATS)
    except RowError:
        return None


def sane_target(opened: datetime | None, target: datetime | None) -> datetime | None:
    if opened is None or target is None:
        return None
    return target if timedelta(0) < target - opened < MAX_SANE_TARGET else None


@dataclass
class Catalogue:
    """Departments and service types as the export describes them."""

    departments: dict[str, str] = field(default_factory=dict)  # code -> name
    #: type name -> (code, department code, group, SLA hours)
    types: dict[str, tuple[str, str, str, int]] = field(default_factory=dict)


def build_catalogue(rows: list[dict[str, str]]) -> Catalogue:
    """Derive departments, service types and their SLA targets from the export."""
    subjects: dict[str, Counter[str]] = defaultdict(Counter)
    type_depts: dict[str, Counter[str]] = defaultdict(Counter)
    type_reasons: dict[str, Counter[str]] = defaultdict(Counter)
    type_hours: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        dept, kind = row["department"].strip(), " ".join(row["type"].split())
        subjects[dept][row["subject"].strip()] += 1
        type_depts[kind][dept] += 1
        type_reasons[kind][row["reason"].strip()] += 1
        opened = _time(row, "open_dt")
        target = sane_target(opened, _time(row, "target_dt"))
        if opened and target:
            type_hours[kind].append((target - opened).total_seconds() / 3600)

    cat = Catalogue()
    taken: set[str] = set()
    for code in sorted(subjects, key=lambda c: -sum(subjects[c].values())):
        name = subjects[code].most_common(1)[0][0]
        if name in taken or code in KNOWN_DEPARTMENT_NAMES:
            name = KNOWN_DEPARTMENT_NAMES.get(code, f"{name} ({code})")
        taken.add(name)
        cat.departments[code] = name

    codes: set[str] = set()
    for kind in sorted(type_depts):
        code = WELL_KNOWN_CODES.get(kind) or slug(kind)
        while code in codes:
            code = f"{code[:77]}_{len(codes)}"
        codes.add(code)
        hours = type_hours[kind]
        sla = max(1, round(statistics.median(hours))) if hours else DEFAULT_SLA_HOURS
        cat.types[kind] = (
            code,
            type_depts[kind].most_common(1)[0][0],
            type_reasons[kind].most_common(1)[0][0],
            sla,
        )
    return cat


def _unlocated(row: dict[str, str]) -> bool:
    """Tell whether an export row has no usable point (none, or City Hall's placeholder)."""
    try:
        lat, long = float(row["latitude"]), float(row["longitude"])
    except (KeyError, ValueError):
        return True
    return boston_format.is_placeholder(lat, long)


def load(data_dir: Path, *, history: int = 5000, recent: int = 30) -> loader.LoadReport:
    """Build Boston; the history import commits batch by batch, the caller commits the rest."""
    rows = read_rows(data_dir)
    cat = build_catalogue(rows)

    depts = {code: loader.add_department(code, name) for code, name in cat.departments.items()}
    db.session.flush()
    for name, (code, dept, group, sla) in cat.types.items():
        loader.add_service_type(
            code, name, depts[dept], group=group, sla_value=sla, attributes=QUESTIONS.get(code)
        )
    wards = loader.add_wards(loader.load_geojson(data_dir / WARDS_PATH), code_key="WARD")

    pothole_dept = depts[cat.types["Request for Pothole Repair"][1]]
    owning = {dept for (_, dept, _, _) in cat.types.values()}
    main = [d for code, d in depts.items() if code in owning]
    crews = loader.add_crews(pothole_dept, main)
    accounts = loader.add_accounts(pothole_dept, crews["Pothole Crew 1"])

    imported = None
    if history > 0:
        # one row in so many, so that the sample spans the whole half-year
        imported = driver.import_file(
            data_dir / CSV_PATH, boston_format.FORMAT, every=max(1, len(rows) // history)
        )
    made = 0
    if recent > 0:
        made = loader.add_recent_requests(
            RECENT_SAMPLES, wards, count=recent, agent_id=loader.account_id(accounts, AGENT)
        )
    places = loader.add_gazetteer(*boston_gazetteer.places(rows, _unlocated))
    return loader.LoadReport(
        city="Boston (2011 open data)",
        departments=len(depts),
        service_types=len(cat.types),
        districts=len(wards),
        crews=len(crews),
        requests=made,
        imported=imported.imported if imported else 0,
        skipped={
            "bad rows": imported.bad if imported else 0,
            "batches not stored": imported.failed_rows if imported else 0,
        },
        unlocated=imported.unlocated if imported else 0,
        accounts=accounts,
        places=places,
    )

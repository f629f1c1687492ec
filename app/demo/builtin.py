"""The built-in demo city: six wards drawn around Riverton, NJ, and a small catalogue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app

from app.auth.roles import AGENT
from app.demo import loader, riverton_streets
from app.extensions import db
from app.requests import routing

WARDS_FILE = Path(__file__).with_name("riverton_wards.geojson")

DEPARTMENTS = {
    "PWD": "Public Works",
    "TRANS": "Transportation",
    "PARKS": "Parks",
    "CODE": "Code Enforcement",
    # answers the phone and triages "Other / not sure" reports; sends no crews
    "311": "311 Call Centre",
}
#: departments with crews in the field
FIELD_DEPARTMENTS = ("PWD", "TRANS", "PARKS", "CODE")

_YES_NO = [{"key": "yes", "name": "Yes"}, {"key": "no", "name": "No"}]


def _question(
    code: str,
    description: str,
    order: int,
    *,
    datatype: str = "singlevaluelist",
    required: bool = False,
    values: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    return {
        "code": code,
        "description": description,
        "datatype": datatype,
        "required": required,
        "order": order,
        "variable": True,
        "values": values or [],
    }


POTHOLE_QUESTIONS = [
    _question(
        "size",
        "How big is the pothole?",
        1,
        required=True,
        values=[
            {"key": "small", "name": "Smaller than a dinner plate"},
            {"key": "medium", "name": "Up to a car tyre"},
            {"key": "large", "name": "Larger than a car tyre"},
        ],
    ),
    _question("in_traffic_lane", "Is it in a traffic lane?", 2, values=_YES_NO),
]
STREETLIGHT_QUESTIONS = [
    _question("pole_number", "The number on the pole, if you can read it", 1, datatype="string"),
    _question(
        "problem",
        "What is wrong with the light?",
        2,
        required=True,
        values=[
            {"key": "out", "name": "Out"},
            {"key": "flickering", "name": "Flickering"},
            {"key": "on_in_daytime", "name": "On during the day"},
        ],
    ),
]
GRAFFITI_QUESTIONS = [
    _question(
        "surface",
        "Where is the graffiti?",
        1,
        required=True,
        values=[
            {"key": "public", "name": "Public property (sign, wall, bench)"},
            {"key": "private", "name": "Private building or fence"},
            {"key": "utility", "name": "Utility box or pole"},
        ],
    ),
    _question("offensive", "Is it offensive or hateful?", 2, values=_YES_NO),
]

#: code, name, department, group, SLA value, SLA unit, questions, completion photo required
SERVICE_TYPES: list[tuple[str, str, str, str, int, str, list[dict[str, Any]], bool]] = [
    ("pothole", "Pothole", "PWD", "Streets", 72, "hours", POTHOLE_QUESTIONS, True),
    ("sidewalk_repair", "Broken sidewalk", "PWD", "Streets", 20, "business_days", [], True),
    (
        "missed_trash_pickup",
        "Missed trash pickup",
        "PWD",
        "Trash and recycling",
        24,
        "hours",
        [
            _question(
                "bin",
                "Which collection was missed?",
                1,
                required=True,
                values=[
                    {"key": "trash", "name": "Trash"},
                    {"key": "recycling", "name": "Recycling"},
                    {"key": "yard_waste", "name": "Yard waste"},
                ],
            )
        ],
        False,
    ),
    ("illegal_dumping", "Illegal dumping", "PWD", "Trash and recycling", 72, "hours", [], True),
    (
        "streetlight",
        "Streetlight out",
        "TRANS",
        "Streets",
        5,
        "business_days",
        STREETLIGHT_QUESTIONS,
        True,
    ),
    ("traffic_signal", "Traffic signal problem", "TRANS", "Traffic", 4, "hours", [], True),
    (
        "street_sign",
        "Missing or damaged street sign",
        "TRANS",
        "Traffic",
        5,
        "business_days",
        [],
        True,
    ),
    (
        "abandoned_vehicle",
        "Abandoned vehicle",
        "TRANS",
        "Vehicles",
        5,
        "business_days",
        [_question("plate", "Licence plate, if visible", 1, datatype="string")],
        False,
    ),
    ("fallen_tree", "Fallen tree or branch", "PARKS", "Trees and parks", 24, "hours", [], True),
    (
        "park_maintenance",
        "Park maintenance",
        "PARKS",
        "Trees and parks",
        5,
        "business_days",
        [],
        True,
    ),
    ("graffiti", "Graffiti", "CODE", "Property", 7, "business_days", GRAFFITI_QUESTIONS, True),
    ("overgrown_lot", "Overgrown lot", "CODE", "Property", 10, "business_days", [], False),
    ("other", "Other / not sure", "311", "Other", 2, "business_days", [], False),
]
#: types whose requests land in the 311 triage queue, to be moved to the right type
TRIAGE_TYPES = {"other"}
#: (service code, ward codes, crew): potholes are split between the two pothole crews
ROUTING_RULES = [
    ("pothole", ("1", "2", "3"), "Pothole Crew 1"),
    ("pothole", ("4", "5", "6"), "Pothole Crew 2"),
]

#: what residents write, per type: (service code, description, address)
SAMPLES = [
    ("pothole", "Deep pothole in the right lane, cars swerve around it.", "Main St & Broad St"),
    ("streetlight", "Streetlight has been out for three nights.", "212 Bank Ave"),
    ("missed_trash_pickup", "Our street was skipped on Tuesday's collection.", "48 Lippincott Ave"),
    ("graffiti", "Spray paint on the side of the bus shelter.", "Broad St & 4th St"),
    ("abandoned_vehicle", "Grey sedan with flat tyres parked for two weeks.", "17 Thomas Ave"),
    ("pothole", "Pothole next to the storm drain, filled with water.", "305 Fulton St"),
    ("fallen_tree", "Large branch down across the sidewalk after the storm.", "Riverfront Park"),
    ("traffic_signal", "Signal stuck on red for the northbound lane.", "Main St & Howard St"),
    ("sidewalk_repair", "Raised slab, someone tripped here last week.", "91 Linden Ave"),
    ("illegal_dumping", "Mattress and tyres dumped in the alley.", "Alley behind 600 Main St"),
    ("street_sign", "Stop sign knocked over.", "Penn St & 5th St"),
    ("park_maintenance", "Broken swing at the playground.", "Memorial Park"),
    ("overgrown_lot", "Weeds over a metre tall on the vacant lot.", "402 Cinnaminson St"),
    ("pothole", "Several potholes along the block.", "100 block of Carriage House Ln"),
    ("other", "Water pools across the crosswalk whenever it rains.", "Broad St & 2nd St"),
]


def load(*, requests: int = 40) -> loader.LoadReport:
    """Build the built-in demo city in the current transaction (the caller commits)."""
    depts = {code: loader.add_department(code, name) for code, name in DEPARTMENTS.items()}
    db.session.flush()
    for code, name, dept, group, sla, unit, questions, photo in SERVICE_TYPES:
        loader.add_service_type(
            code,
            name,
            depts[dept],
            group=group,
            sla_value=sla,
            sla_unit=unit,
            attributes=questions,
            completion_photo_required=photo,
            triage=code in TRIAGE_TYPES,
        )
    wards = loader.add_wards(loader.load_geojson(WARDS_FILE), code_key="ward")
    pwd = depts["PWD"]
    crews = loader.add_crews(pwd, [depts[code] for code in FIELD_DEPARTMENTS])
    for code, ward_codes, crew in ROUTING_RULES:
        for ward in ward_codes:
            routing.create_rule(code, district_code=ward, crew_id=crews[crew].id)
    accounts = loader.add_accounts(pwd, crews["Pothole Crew 1"])
    agent_id = loader.account_id(accounts, AGENT)
    made = loader.add_recent_requests(SAMPLES, wards, count=requests, agent_id=agent_id)
    places = loader.add_gazetteer(*riverton_streets.build(WARDS_FILE))
    return loader.LoadReport(
        city=current_app.config["CITY_NAME"],
        departments=len(depts),
        service_types=len(SERVICE_TYPES),
        districts=len(wards),
        crews=len(crews),
        requests=made,
        imported=0,
        skipped={},
        accounts=accounts,
        places=places,
    )

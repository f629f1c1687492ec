"""The built-in demo city routes potholes by ward and has a 311 triage type."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.org.models import Crew
from app.requests import routing
from app.requests.models import ServiceRequest, ServiceType
from tests.demo.test_demo_load import load


def test_builtin_demo_has_a_triage_type_and_pothole_rules_by_ward(app, db_session):
    load(app, "--builtin")

    other = db.session.scalar(select(ServiceType).where(ServiceType.code == "other"))
    assert (other.name, other.triage, other.department.name) == (
        "Other / not sure",
        True,
        "311 Call Centre",
    )
    rules = {(r.service_type.code, r.district.code): r.crew.name for r in routing.list_rules()}
    assert rules == {
        ("pothole", ward): "Pothole Crew 1" if ward in "123" else "Pothole Crew 2"
        for ward in "123456"
    }
    # the call centre sends no crews
    assert db.session.scalar(select(Crew).where(Crew.department_id == other.department_id)) is None

    # the demo's potholes went through intake, so each carries its ward's crew
    crews = {c.id: c.name for c in db.session.scalars(select(Crew))}
    potholes = list(
        db.session.scalars(
            select(ServiceRequest)
            .join(ServiceType, ServiceType.id == ServiceRequest.service_type_id)
            .where(ServiceType.code == "pothole")
        )
    )
    assert potholes
    for sr in potholes:
        expected = "Pothole Crew 1" if sr.district.code in "123" else "Pothole Crew 2"
        assert crews[sr.crew_id] == expected
    assert routing.triage_queue()[1] >= 1

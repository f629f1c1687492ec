"""Routing rules: chosen at intake in its one statement, managed by admins through the API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.core.errors import Conflict, DomainError
from app.extensions import db
from app.requests import routing, service
from app.requests.importer import HistoricalRequest, import_requests
from app.requests.models import RequestEvent, RoutingRule, ServiceRequest
from tests.factories import ANONYMOUS, WARD_1_POINT, WARD_2_POINT, new_request, submit
from tests.helpers import bearer
from tests.requests.test_intake_statements import INTAKE, assert_statements


def created_event(sr: ServiceRequest) -> RequestEvent:
    return db.session.scalar(
        select(RequestEvent).where(RequestEvent.request_id == sr.id, RequestEvent.kind == "created")
    )


def rule_count() -> int:
    return db.session.scalar(select(func.count()).select_from(RoutingRule))


def pothole_rules(city) -> None:
    """Potholes: Parks for every ward, but Public Works with crew B in ward 1."""
    routing.create_rule("pothole", department_code="PARKS", crew_id=city.parks_crew.id)
    routing.create_rule("pothole", district_code="1", crew_id=city.crew_b.id)


# ---------------------------------------------------------------------------------------------
# intake


def test_without_a_rule_a_request_goes_to_its_types_department_and_no_crew(city):
    sr = submit("pothole", WARD_2_POINT)
    assert (sr.department_id, sr.crew_id) == (city.public_works.id, None)
    assert created_event(sr).data == {"channel": "web", "department": "PWD"}


def test_a_ward_rule_beats_the_types_rule_for_every_ward(city):
    pothole_rules(city)

    in_ward_1 = submit("pothole", WARD_1_POINT)
    in_ward_2 = submit("pothole", WARD_2_POINT)

    assert (in_ward_1.department_id, in_ward_1.crew_id) == (city.public_works.id, city.crew_b.id)
    assert (in_ward_2.department_id, in_ward_2.crew_id) == (city.parks.id, city.parks_crew.id)
    rules = {r.district_id: r.id for r in routing.list_rules()}
    assert created_event(in_ward_1).data == {
        "channel": "web",
        "department": "PWD",
        "routing_rule_id": rules[city.ward1.id],
        "crew_id": city.crew_b.id,
    }
    assert created_event(in_ward_2).data["department"] == "PARKS"
    assert created_event(in_ward_2).data["routing_rule_id"] == rules[None]
    # other types are not touched by the pothole rules
    assert submit("streetlight", WARD_2_POINT).department_id == city.public_works.id


def test_the_answer_names_the_routed_department(client, city):
    routing.create_rule("pothole", department_code="PARKS")
    body = {
        "service_code": "pothole",
        "description": "Deep pothole",
        "lat": WARD_2_POINT[0],
        "long": WARD_2_POINT[1],
    }
    resp = client.post("/api/v1/requests", json=body)
    assert resp.status_code == 201
    data = resp.get_json()
    assert data["department"] == {"code": "PARKS", "name": "Parks and Recreation"}
    assert db.session.get(ServiceRequest, data["id"]).department_id == city.parks.id


def test_a_rule_of_an_inactive_crew_still_routes_but_proposes_no_crew(city):
    routing.create_rule("pothole", crew_id=city.crew_a.id)
    city.crew_a.active = False
    db.session.flush()
    sr = submit("pothole", WARD_2_POINT)
    assert (sr.department_id, sr.crew_id) == (city.public_works.id, None)


def test_a_deleted_rule_routes_no_more(city):
    rule = routing.create_rule("pothole", department_code="PARKS")
    routing.delete_rule(rule.id)
    assert submit("pothole").department_id == city.public_works.id


def test_routing_costs_intake_no_statement_more(city, statements, cold_catalogue):
    pothole_rules(city)
    report = new_request("pothole", WARD_2_POINT, **ANONYMOUS)
    service.submit_request(report, channel="web")  # warms the catalogue
    with statements() as seen:
        result = service.submit_request(report, channel="web")
    assert_statements(seen, [INTAKE])
    assert (result.department_code, result.department_name) == ("PARKS", "Parks and Recreation")
    assert result.crew_id == city.parks_crew.id


def test_a_rule_survives_the_type_moving_behind_the_caches_back(city, cold_catalogue):
    routing.create_rule("pothole", district_code="2", department_code="PARKS")
    report = new_request("pothole", WARD_2_POINT, **ANONYMOUS)
    service.submit_request(report, channel="web")
    city.pothole.department_id = city.parks.id  # the type moves; the cache still says PWD
    db.session.flush()
    moved = service.submit_request(new_request("pothole", WARD_1_POINT, **ANONYMOUS), channel="web")
    assert moved.department_code == "PARKS"
    assert db.session.get(ServiceRequest, moved.id).department_id == city.parks.id


# ---------------------------------------------------------------------------------------------
# the rules' own checks


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"service_code": "no-such-type", "department_code": "PWD"}, "service_code", "no-such"),
        ({"district_code": "9", "department_code": "PWD"}, "district", "no ward '9'"),
        ({"department_code": "NOPE"}, "department", "no department 'NOPE'"),
        ({"crew_id": 999_999}, "crew_id", "no crew 999999"),
        ({}, "department", "Name the department"),
    ],
)
def test_unknown_references_are_refused_by_name(city, kwargs, field, words):
    kwargs = {"service_code": "pothole", **kwargs}
    with pytest.raises(DomainError, match=words) as refused:
        routing.create_rule(kwargs.pop("service_code"), **kwargs)
    assert refused.value.status_code == 400 and refused.value.field == field
    assert rule_count() == 0


def test_a_crew_of_another_department_is_refused(city):
    with pytest.raises(DomainError, match="Parks crew works for Parks and Recreation"):
        routing.create_rule("pothole", department_code="PWD", crew_id=city.parks_crew.id)
    assert rule_count() == 0


@pytest.mark.parametrize("district", [None, "1"])
def test_a_second_rule_for_the_same_type_and_ward_is_a_conflict(city, district):
    first = routing.create_rule("pothole", district_code=district, department_code="PARKS")
    with pytest.raises(Conflict, match=f"rule {first.id}"):
        routing.create_rule("pothole", district_code=district, department_code="PWD")
    assert rule_count() == 1


# ---------------------------------------------------------------------------------------------
# API


def test_an_admin_adds_lists_and_deletes_rules(client, city, tokens):
    admin = bearer(tokens["admin"])
    resp = client.post(
        "/api/v1/routing-rules",
        json={"service_code": "pothole", "district": "1", "crew_id": city.crew_b.id},
        headers=admin,
    )
    assert resp.status_code == 201, resp.get_json()
    created = resp.get_json()
    assert created["service"] == {"code": "pothole", "name": "Pothole"}
    assert created["district"] == {"code": "1", "name": "Ward 1"}
    # no department named: the crew's
    assert created["department"] == {"code": "PWD", "name": "Public Works"}
    assert created["crew"] == {"id": city.crew_b.id, "name": "Pothole crew B"}
    every_ward = client.post(
        "/api/v1/routing-rules",
        json={"service_code": "graffiti", "department": "PWD"},
        headers=admin,
    )
    assert every_ward.status_code == 201
    assert every_ward.get_json()["district"] is None and every_ward.get_json()["crew"] is None

    listed = client.get("/api/v1/routing-rules", headers=admin)
    assert listed.status_code == 200
    assert [(r["service"]["code"], r["district"]) for r in listed.get_json()] == [
        ("graffiti", None),
        ("pothole", {"code": "1", "name": "Ward 1"}),
    ]
    assert submit("pothole", WARD_1_POINT).crew_id == city.crew_b.id

    gone = client.delete(f"/api/v1/routing-rules/{created['id']}", headers=admin)
    assert gone.status_code == 204
    assert client.delete(f"/api/v1/routing-rules/{created['id']}", headers=admin).status_code == 404
    assert [
        r["service"]["code"] for r in client.get("/api/v1/routing-rules", headers=admin).get_json()
    ] == ["graffiti"]
    assert submit("pothole", WARD_1_POINT).crew_id is None


@pytest.mark.parametrize("role", ["agent", "dispatcher", "crew", "manager"])
def test_only_admins_manage_rules(client, city, tokens, role):
    rule = routing.create_rule("pothole", department_code="PARKS")
    headers = bearer(tokens[role])
    assert client.get("/api/v1/routing-rules", headers=headers).status_code == 403
    body = {"service_code": "graffiti", "department": "PWD"}
    assert client.post("/api/v1/routing-rules", json=body, headers=headers).status_code == 403
    assert client.delete(f"/api/v1/routing-rules/{rule.id}", headers=headers).status_code == 403
    assert rule_count() == 1
    assert client.get("/api/v1/routing-rules").status_code == 401


def test_api_refusals_say_what_is_wrong_and_store_nothing(client, city, tokens):
    admin = bearer(tokens["admin"])

    def post(body):
        return client.post("/api/v1/routing-rules", json=body, headers=admin)

    assert post({"service_code": "pothole", "department": "PARKS"}).status_code == 201
    duplicate = post({"service_code": "pothole", "department": "PWD"})
    assert duplicate.status_code == 409
    assert "already has a routing rule for every district" in duplicate.get_json()["message"]

    unknown = post({"service_code": "pothole", "district": "7", "department": "PWD"})
    assert unknown.status_code == 400 and "no ward '7'" in unknown.get_json()["message"]
    foreign_crew = post(
        {"service_code": "graffiti", "department": "PWD", "crew_id": city.parks_crew.id}
    )
    assert foreign_crew.status_code == 400
    assert "must belong to the rule's department" in foreign_crew.get_json()["message"]

    missing = post({"department": "PWD"})
    assert (
        missing.status_code == 422 and "service_code is required" in missing.get_json()["message"]
    )
    assert post({"service_code": "graffiti", "crew_id": "two"}).status_code == 422
    assert rule_count() == 1


# ---------------------------------------------------------------------------------------------
# the bulk importer routes by the same rules


def test_imported_rows_without_a_department_follow_the_rules(city):
    pothole_rules(city)
    at = datetime(2024, 5, 1, 12, tzinfo=UTC)
    rows = [
        HistoricalRequest("pothole", "in ward 1", *WARD_1_POINT, requested_at=at),
        HistoricalRequest("pothole", "in ward 2", *WARD_2_POINT, requested_at=at),
        # the department that handled it then is kept, whatever today's rules say
        HistoricalRequest(
            "pothole", "recorded", *WARD_2_POINT, requested_at=at, department_code="PWD"
        ),
        HistoricalRequest("streetlight", "no rule", *WARD_2_POINT, requested_at=at),
    ]
    ids = import_requests(rows).ids
    stored = [db.session.get(ServiceRequest, i) for i in ids]
    assert [(sr.department_id, sr.crew_id) for sr in stored] == [
        (city.public_works.id, city.crew_b.id),
        (city.parks.id, city.parks_crew.id),
        (city.public_works.id, None),
        (city.public_works.id, None),
    ]
    assert [created_event(sr).data["department"] for sr in stored] == [
        "PWD",
        "PARKS",
        "PWD",
        "PWD",
    ]
    assert "routing_rule_id" in created_event(stored[1]).data
    assert "routing_rule_id" not in created_event(stored[2]).data

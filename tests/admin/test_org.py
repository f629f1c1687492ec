"""Departments and crews in the admin area: pages, API, role checks and the audit they leave."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.core.audit import AuditEntry
from app.extensions import db
from app.org.models import Crew, Department
from app.requests import service as requests_service
from tests.factories import make_department, make_service_type, submit
from tests.helpers import bearer, sign_in

NON_ADMINS = ("agent", "dispatcher", "crew", "manager")
PAGES = ("/admin", "/admin/audit", "/admin/departments", "/admin/crews")


def _entries(kind: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.target_kind == kind).order_by(AuditEntry.id)
        )
    )


@pytest.mark.parametrize("role", NON_ADMINS)
def test_every_admin_page_is_403_for_other_roles(client, city, role) -> None:
    sign_in(client, city.users[role])
    for page in PAGES:
        assert client.get(page).status_code == 403, page
    assert client.post("/admin/departments", data={"code": "X", "name": "X"}).status_code == 403
    assert db.session.scalar(select(Department).where(Department.code == "X")) is None


@pytest.mark.parametrize("role", NON_ADMINS)
def test_the_admin_api_is_403_for_other_roles(client, tokens, role) -> None:
    assert client.get("/api/v1/admin/audit", headers=bearer(tokens[role])).status_code == 403
    for path in ("/api/v1/admin/departments", "/api/v1/admin/crews"):
        assert client.get(path, headers=bearer(tokens[role])).status_code == 403
        assert client.post(path, json={}, headers=bearer(tokens[role])).status_code == 403


def test_signed_out_the_pages_send_to_sign_in(client, city) -> None:
    resp = client.get("/admin/departments")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert client.get("/api/v1/admin/departments").status_code == 401


def test_the_admin_index_links_every_admin_page(client, city) -> None:
    sign_in(client, city.users["admin"])
    page = client.get("/admin").get_data(as_text=True)
    for href in (
        *PAGES[1:],
        "/admin/service-types",
        "/admin/routing-rules",
        "/admin/holidays",
        "/admin/open311/keys",
    ):
        assert f'href="{href}"' in page, href
        assert client.get(href).status_code == 200, href
    menu = client.get("/").get_data(as_text=True)
    assert 'href="/admin">Admin</a>' in menu


def test_create_rename_and_deactivate_a_department_on_the_page(client, city) -> None:
    sign_in(client, city.users["admin"])
    resp = client.post(
        "/admin/departments", data={"code": "WATER", "name": "Water", "email": "w@city.test"}
    )
    assert resp.status_code == 303
    resp = client.post("/admin/departments/WATER", data={"action": "rename", "name": "Water Dept"})
    assert resp.status_code == 303
    resp = client.post("/admin/departments/WATER", data={"action": "deactivate"})
    assert resp.status_code == 303
    dept = db.session.scalar(select(Department).where(Department.code == "WATER"))
    assert (dept.name, dept.active) == ("Water Dept", False)
    assert "Water Dept" in client.get("/admin/departments?q=wat").get_data(as_text=True)
    assert "Water Dept" not in client.get("/admin/departments?q=parks").get_data(as_text=True)
    entries = _entries("department")
    assert [e.action for e in entries] == ["create", "update", "deactivate"]
    assert entries[1].before["name"] == "Water" and entries[1].after["name"] == "Water Dept"
    assert {e.actor_email for e in entries} == {"admin@city.test"}
    audit = client.get("/admin/audit?kind=department&actor=admin@").get_data(as_text=True)
    assert "Water Dept" in audit and "deactivate" in audit
    assert "3 changes" in audit
    assert "0 changes" in client.get("/admin/audit?actor=nobody").get_data(as_text=True)


def test_a_duplicate_code_is_refused_on_the_form(client, city) -> None:
    sign_in(client, city.users["admin"])
    resp = client.post("/admin/departments", data={"code": "PWD", "name": "Again"})
    assert resp.status_code == 409
    assert "already a department" in resp.get_data(as_text=True)
    assert _entries("department") == []


def test_a_department_with_open_requests_cannot_be_deactivated(client, city) -> None:
    submit("pothole")
    submit("pothole")
    db.session.commit()
    sign_in(client, city.users["admin"])
    resp = client.post("/admin/departments/PWD", data={"action": "deactivate"})
    assert resp.status_code == 409
    assert "2 open requests" in resp.get_data(as_text=True)
    db.session.refresh(city.public_works)
    assert city.public_works.active is True
    assert _entries("department") == []


def test_the_list_counts_each_departments_open_requests_in_one_query(
    client, city, statements
) -> None:
    snow = make_department("SNOW", "Snow Removal")
    make_department("WATER", "Water")  # nothing reported: 0
    make_service_type("plow", snow, name="Unplowed street")
    for code in ("pothole", "pothole", "streetlight", "graffiti", "plow", "plow"):
        submit(code)
    requests_service.close(submit("pothole"), reason="fixed", actor_id=None)  # not open
    db.session.commit()
    sign_in(client, city.users["admin"])

    with statements() as seen:
        page = client.get("/admin/departments").get_data(as_text=True)

    shown = dict(
        re.findall(r"<code>(\w+)</code>.*?data-label=\"Open requests\">(\d+)<", page, re.S)
    )
    assert shown == {"PARKS": "1", "PWD": "3", "SNOW": "2", "WATER": "0"}
    # one grouped count for the whole list, not one per department
    assert len([s for s in seen if "service_requests" in s]) == 1, seen


def test_a_refused_deactivation_leaves_the_rename_undone_too(client, city, tokens) -> None:
    submit("pothole")
    db.session.commit()
    resp = client.patch(
        "/api/v1/admin/departments/PWD",
        json={"name": "Renamed", "active": False},
        headers=bearer(tokens["admin"]),
    )
    assert resp.status_code == 409 and "1 open request" in resp.get_json()["message"]
    db.session.expire_all()
    assert db.session.get(Department, city.public_works.id).name == "Public Works"


def test_departments_api(client, city, tokens) -> None:
    auth = bearer(tokens["admin"])
    resp = client.post(
        "/api/v1/admin/departments", json={"code": "WATER", "name": "Water"}, headers=auth
    )
    assert resp.status_code == 201
    assert resp.get_json() == {
        "id": resp.get_json()["id"],
        "code": "WATER",
        "name": "Water",
        "email": None,
        "active": True,
    }
    resp = client.post(
        "/api/v1/admin/departments", json={"code": "WATER", "name": "W"}, headers=auth
    )
    assert resp.status_code == 409
    assert (
        client.post("/api/v1/admin/departments", json={"code": "Z"}, headers=auth).status_code
        == 422
    )
    resp = client.patch("/api/v1/admin/departments/WATER", json={"active": False}, headers=auth)
    assert resp.status_code == 200 and resp.get_json()["active"] is False
    listed = client.get("/api/v1/admin/departments?q=wat", headers=auth).get_json()
    assert [d["code"] for d in listed] == ["WATER"]
    assert client.patch("/api/v1/admin/departments/NOPE", json={}, headers=auth).status_code == 404
    assert [e.action for e in _entries("department")] == ["create", "deactivate"]
    logged = client.get("/api/v1/admin/audit?kind=department", headers=auth).get_json()
    assert logged["total"] == 2
    assert [(e["action"], e["target_id"]) for e in logged["entries"]] == [
        ("deactivate", "WATER"),
        ("create", "WATER"),
    ]
    assert logged["entries"][0]["before"]["active"] is True
    assert logged["entries"][0]["actor_email"] == "admin@city.test"
    none = client.get("/api/v1/admin/audit?actor=nobody", headers=auth).get_json()
    assert none == {"total": 0, "entries": []}


def test_crews_on_the_page_and_the_api(client, city, tokens) -> None:
    sign_in(client, city.users["admin"])
    assert (
        client.post("/admin/crews", data={"name": "Night crew", "department": "PWD"}).status_code
        == 303
    )
    crew = db.session.scalar(select(Crew).where(Crew.name == "Night crew"))
    assert crew.department_id == city.public_works.id
    resp = client.post(f"/admin/crews/{crew.id}", data={"action": "rename", "name": "Parks crew"})
    assert resp.status_code == 409 and "already a crew" in resp.get_data(as_text=True)
    assert client.post(f"/admin/crews/{crew.id}", data={"action": "deactivate"}).status_code == 303
    resp = client.post("/admin/crews", data={"name": "", "department": "PWD"})
    assert resp.status_code == 400 and "1 to 120 characters" in resp.get_data(as_text=True)
    auth = bearer(tokens["admin"])
    resp = client.post(
        "/api/v1/admin/crews", json={"name": "Tree crew", "department": "PARKS"}, headers=auth
    )
    assert resp.status_code == 201 and resp.get_json()["department"] == "PARKS"
    resp = client.patch(
        f"/api/v1/admin/crews/{resp.get_json()['id']}", json={"name": "Trees"}, headers=auth
    )
    assert resp.status_code == 200 and resp.get_json()["name"] == "Trees"
    assert (
        client.post(
            "/api/v1/admin/crews", json={"name": "X", "department": "NOPE"}, headers=auth
        ).status_code
        == 404
    )
    names = [c["name"] for c in client.get("/api/v1/admin/crews?q=night", headers=auth).get_json()]
    assert names == ["Night crew"]
    assert [e.action for e in _entries("crew")] == ["create", "deactivate", "create", "update"]


def test_a_crew_cannot_join_a_deactivated_department(client, city, tokens) -> None:
    auth = bearer(tokens["admin"])
    client.post("/api/v1/admin/departments", json={"code": "OLD", "name": "Old"}, headers=auth)
    client.patch("/api/v1/admin/departments/OLD", json={"active": False}, headers=auth)
    resp = client.post("/api/v1/admin/crews", json={"name": "Z", "department": "OLD"}, headers=auth)
    assert resp.status_code == 400 and "deactivated" in resp.get_json()["message"]


def test_routing_rule_and_holiday_changes_are_audited(client, city) -> None:
    sign_in(client, city.users["admin"])
    client.post("/admin/routing-rules", data={"service_code": "graffiti", "department": "PWD"})
    rule_id = _entries("routing_rule")[0].target_id
    client.post(f"/admin/routing-rules/{rule_id}/delete")
    client.post("/admin/holidays", data={"date": "2026-12-25", "name": "Christmas"})
    client.post("/admin/holidays/2026-12-25/delete")
    rules = _entries("routing_rule")
    assert [e.action for e in rules] == ["create", "delete"]
    assert rules[0].after == {
        "service_code": "graffiti",
        "district": None,
        "department": "PWD",
        "crew_id": None,
    }
    assert rules[1].before == rules[0].after
    holidays = _entries("holiday")
    assert [(e.action, e.actor_email) for e in holidays] == [
        ("create", "admin@city.test"),
        ("delete", "admin@city.test"),
    ]
    assert holidays[0].after == {"day": "2026-12-25", "name": "Christmas"}

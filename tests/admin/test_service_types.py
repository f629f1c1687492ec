"""Service types in the admin area: pages, API, safe SLA changes, questions, and the audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.audit import AuditEntry
from app.extensions import db
from app.requests.models import ServiceType
from tests.factories import submit
from tests.helpers import bearer, sign_in

NON_ADMINS = ("agent", "dispatcher", "crew", "manager")


def _form(**overrides: str) -> dict[str, str]:
    form = {
        "code": "tree-down",
        "name": "Tree down",
        "group": "Parks",
        "department": "PARKS",
        "sla_value": "48",
        "sla_unit": "hours",
        "active": "1",
        "public": "1",
        "q-count": "1",
        "q-0-code": "blocking",
        "q-0-description": "Is it blocking the road?",
        "q-0-datatype": "singlevaluelist",
        "q-0-values": "yes=Yes\nno=No",
        "q-0-required": "1",
        "q-0-order": "1",
    }
    return form | overrides


def _audit(code: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.target_kind == "service_type", AuditEntry.target_id == code)
            .order_by(AuditEntry.id)
        )
    )


def _type(code: str) -> ServiceType | None:
    db.session.expire_all()
    return db.session.scalar(select(ServiceType).where(ServiceType.code == code))


@pytest.mark.parametrize("role", NON_ADMINS)
def test_pages_and_api_are_403_for_other_roles(client, city, tokens, role) -> None:
    sign_in(client, city.users[role])
    for page in (
        "/admin/service-types",
        "/admin/service-types/new",
        "/admin/service-types/pothole",
    ):
        assert client.get(page).status_code == 403, page
    assert client.post("/admin/service-types/new", data=_form()).status_code == 403
    auth = bearer(tokens[role])
    assert client.get("/api/v1/admin/service-types", headers=auth).status_code == 403
    resp = client.patch("/api/v1/admin/service-types/pothole", json={"name": "X"}, headers=auth)
    assert resp.status_code == 403
    assert _type("tree-down") is None and _type("pothole").name == "Pothole"


def test_create_a_type_with_a_question_on_the_page(client, city) -> None:
    sign_in(client, city.users["admin"])
    assert "seconds" in client.get("/admin/service-types/new").get_data(as_text=True)
    resp = client.post("/admin/service-types/new", data=_form())
    assert resp.status_code == 303
    st = _type("tree-down")
    assert (st.name, st.department_id, st.sla_value, st.triage) == (
        "Tree down",
        city.parks.id,
        48,
        False,
    )
    assert st.attributes == [
        {
            "code": "blocking",
            "description": "Is it blocking the road?",
            "datatype": "singlevaluelist",
            "required": True,
            "variable": True,
            "order": 1,
            "values": [{"key": "yes", "name": "Yes"}, {"key": "no", "name": "No"}],
        }
    ]
    services = {s["code"]: s for s in client.get("/api/v1/services").get_json()}
    assert services["tree-down"]["attributes"] == st.attributes
    assert "Is it blocking the road?" in client.get("/").get_data(as_text=True)
    assert [e.action for e in _audit("tree-down")] == ["create"]
    listing = client.get("/admin/service-types?q=tree-d").get_data(as_text=True)
    assert "Tree down" in listing and "Pothole" not in listing


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"q-0-values": ""}, "a list question needs values"),
        ({"sla_value": "0"}, "whole number above 0"),
        ({"sla_value": "-3"}, "whole number above 0"),
        ({"sla_value": "soon"}, "whole number above 0"),
        ({"code": "pothole"}, "already a service type"),
        ({"department": ""}, "Choose the department"),
        (
            {
                "q-count": "2",
                "q-1-code": "blocking",
                "q-1-description": "Again",
                "q-1-datatype": "string",
            },
            "Two questions have the code blocking",
        ),
    ],
)
def test_bad_input_is_refused_on_the_form_with_nothing_saved(
    client, city, overrides, message
) -> None:
    sign_in(client, city.users["admin"])
    resp = client.post("/admin/service-types/new", data=_form(**overrides))
    assert 400 <= resp.status_code < 500
    assert message in resp.get_data(as_text=True)
    assert 'value="Tree down"' in resp.get_data(as_text=True)  # the form keeps what was typed
    assert _type("tree-down") is None or overrides.get("code") == "pothole"
    assert _audit("tree-down") == []
    assert _type("pothole").name == "Pothole"


def test_a_refused_edit_changes_nothing(client, city) -> None:
    sign_in(client, city.users["admin"])
    resp = client.post("/admin/service-types/pothole", data=_form(name="Big hole", sla_value="0"))
    assert resp.status_code == 400
    st = _type("pothole")
    assert (st.name, st.sla_value) == ("Pothole", 72)
    assert _audit("pothole") == []


def test_an_sla_change_keeps_open_due_times_unless_asked(client, city) -> None:
    sr = submit("pothole")
    db.session.commit()
    promised = sr.due_at
    sign_in(client, city.users["admin"])
    page = client.get("/admin/service-types/pothole").get_data(as_text=True)
    assert "move the due time of the 1 open request " in page
    form = _form(code="", name="Pothole", department="PWD", sla_value="24", **{"q-count": "0"})
    assert client.post("/admin/service-types/pothole", data=form).status_code == 303
    db.session.expire_all()
    assert sr.due_at == promised and _type("pothole").sla_value == 24
    form["sla_value"] = "12"
    form["move_due"] = "1"
    resp = client.post("/admin/service-types/pothole", data=form, follow_redirects=True)
    assert "1 open requests have new due times" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert sr.due_at == sr.requested_at + timedelta(hours=12)
    entries = _audit("pothole")
    assert [(e.before["sla_value"], e.after["sla_value"]) for e in entries] == [(72, 24), (24, 12)]
    assert entries[1].after["due_times_moved"] == 1
    assert _type("pothole").code == "pothole"


def test_questions_are_reordered_and_removed_on_the_page(client, city) -> None:
    sign_in(client, city.users["admin"])
    client.post("/admin/service-types/new", data=_form())
    form = _form(
        **{
            "q-count": "2",
            "q-0-order": "2",
            "q-1-code": "note",
            "q-1-description": "Anything else?",
            "q-1-datatype": "text",
            "q-1-order": "1",
        }
    )
    assert client.post("/admin/service-types/tree-down", data=form).status_code == 303
    assert [q["code"] for q in _type("tree-down").attributes] == ["note", "blocking"]
    form["q-0-remove"] = "1"
    assert client.post("/admin/service-types/tree-down", data=form).status_code == 303
    assert [q["code"] for q in _type("tree-down").attributes] == ["note"]


def test_deactivating_hides_the_type_but_keeps_its_requests(client, city) -> None:
    sr = submit("graffiti")
    db.session.commit()
    sign_in(client, city.users["admin"])
    form = _form(code="", name="Graffiti", department="PARKS", sla_value="168", **{"q-count": "0"})
    del form["active"]
    assert client.post("/admin/service-types/graffiti", data=form).status_code == 303
    codes = [s["code"] for s in client.get("/api/v1/services").get_json()]
    assert "graffiti" not in codes and "pothole" in codes
    assert "graffiti" not in client.get("/open311/v2/services.json").get_data(as_text=True)
    assert db.session.get(type(sr), sr.id) is not None
    assert [e.action for e in _audit("graffiti")] == ["deactivate"]
    assert "deactivated" in client.get("/admin/service-types").get_data(as_text=True)


def test_service_types_api(client, city, tokens) -> None:
    auth = bearer(tokens["admin"])
    body = {
        "code": "tree-down",
        "name": "Tree down",
        "department": "PARKS",
        "sla_value": 2,
        "sla_unit": "business_days",
        "triage": True,
        "attributes": [
            {"code": "blocking", "description": "Blocking?", "datatype": "string", "order": 1}
        ],
    }
    resp = client.post("/api/v1/admin/service-types", json=body, headers=auth)
    assert resp.status_code == 201, resp.get_json()
    created = resp.get_json()
    public = {s["code"]: s for s in client.get("/api/v1/services").get_json()}["tree-down"]
    assert {k: created[k] for k in public} == public
    assert (created["triage"], created["active"], created["open_requests"]) == (True, True, 0)
    assert client.post("/api/v1/admin/service-types", json=body, headers=auth).status_code == 409
    bad = body | {"code": "x", "attributes": [{"code": "k", "datatype": "multivaluelist"}]}
    resp = client.post("/api/v1/admin/service-types", json=bad, headers=auth)
    assert resp.status_code == 400 and "needs values" in resp.get_json()["message"]
    resp = client.post(
        "/api/v1/admin/service-types", json=body | {"code": "y", "sla_value": 0}, headers=auth
    )
    assert resp.status_code == 400
    resp = client.patch(
        "/api/v1/admin/service-types/tree-down", json={"name": "Fallen tree"}, headers=auth
    )
    assert resp.status_code == 200 and resp.get_json()["code"] == "tree-down"
    assert resp.get_json()["name"] == "Fallen tree"
    got = client.get("/api/v1/admin/service-types/tree-down", headers=auth).get_json()
    assert got["name"] == "Fallen tree"
    listed = client.get("/api/v1/admin/service-types?q=fallen", headers=auth).get_json()
    assert [s["code"] for s in listed] == ["tree-down"]
    assert client.get("/api/v1/admin/service-types/nope", headers=auth).status_code == 404
    assert [e.action for e in _audit("tree-down")] == ["create", "update"]
    assert _type("x") is None and _type("y") is None

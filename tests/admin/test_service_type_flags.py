"""Service type flags (public, sensitive, emergency notice) and the live preview."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.audit import AuditEntry
from app.extensions import db
from app.geo.privacy import snap_to_grid
from app.open311 import keys
from app.requests.models import ServiceType
from tests.factories import WARD_1_POINT, submit
from tests.helpers import bearer, sign_in

NON_ADMINS = ("agent", "dispatcher", "crew", "manager")
NOTICE = "A gas smell is an emergency: leave the building and call 911 now."


def _set(code: str, **fields: object) -> None:
    st = db.session.scalar(select(ServiceType).where(ServiceType.code == code))
    for name, value in fields.items():
        setattr(st, name, value)
    db.session.commit()


def _type(code: str) -> ServiceType:
    db.session.expire_all()
    st = db.session.scalar(select(ServiceType).where(ServiceType.code == code))
    assert st is not None
    return st


def _report(client, code: str, description: str):
    """Post the resident form for a `code` problem in ward 1."""
    return client.post(
        "/",
        data={
            "service_code": code,
            "description": description,
            "lat": str(WARD_1_POINT[0]),
            "long": str(WARD_1_POINT[1]),
        },
    )


def _edit_form(st: ServiceType, **overrides: str) -> dict[str, str]:
    form = {
        "name": st.name,
        "group": st.group,
        "keywords": st.keywords,
        "department": st.department.code,
        "sla_value": str(st.sla_value),
        "sla_unit": st.sla_unit,
        "active": "1",
        "public": "1",
        "q-count": "0",
    }
    return form | overrides


def test_flags_are_edited_on_the_page_and_audited(client, city) -> None:
    sign_in(client, city.users["admin"])
    page = client.get("/admin/service-types/graffiti").get_data(as_text=True)
    assert 'name="public"' in page and 'name="sensitive"' in page
    assert 'name="emergency_notice"' in page and 'name="keywords"' in page
    st = _type("graffiti")
    form = _edit_form(
        st,
        group="Streets",
        keywords="tag, spray paint",
        sensitive="1",
        emergency_notice=f"  {NOTICE}  ",
    )
    del form["public"]
    assert client.post("/admin/service-types/graffiti", data=form).status_code == 303
    st = _type("graffiti")
    assert (st.public, st.sensitive, st.emergency_notice) == (False, True, NOTICE)
    assert (st.group, st.keywords) == ("Streets", "tag, spray paint")
    entry = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.target_kind == "service_type", AuditEntry.target_id == "graffiti")
        .order_by(AuditEntry.id.desc())
    ).first()
    assert entry is not None and entry.actor_email == city.users["admin"].email
    assert (entry.before["public"], entry.after["public"]) == (True, False)
    assert (entry.before["sensitive"], entry.after["sensitive"]) == (False, True)
    assert (
        entry.after["emergency_notice"] == NOTICE and entry.after["keywords"] == "tag, spray paint"
    )


def test_a_too_long_notice_is_refused_on_the_page_and_in_the_api(client, city, tokens) -> None:
    resp = client.patch(
        "/api/v1/admin/service-types/graffiti",
        json={"emergency_notice": "x" * 1001},
        headers=bearer(tokens["admin"]),
    )
    assert resp.status_code == 422
    sign_in(client, city.users["admin"])
    st = _type("graffiti")
    resp = client.post(
        "/admin/service-types/graffiti", data=_edit_form(st, emergency_notice="x" * 1001)
    )
    assert resp.status_code == 400
    assert "at most 1000 characters" in resp.get_data(as_text=True)
    assert _type("graffiti").emergency_notice == ""


def test_flags_through_the_api(client, city, tokens) -> None:
    auth = bearer(tokens["admin"])
    resp = client.patch(
        "/api/v1/admin/service-types/graffiti",
        json={"public": False, "sensitive": True, "emergency_notice": NOTICE, "group": "Walls"},
        headers=auth,
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert (body["public"], body["sensitive"], body["emergency_notice"]) == (False, True, NOTICE)
    assert body["group"] == "Walls"
    resp = client.post(
        "/api/v1/admin/service-types",
        json={
            "code": "welfare-check",
            "name": "Welfare check",
            "department": "PWD",
            "sla_value": 4,
            "public": False,
            "sensitive": True,
        },
        headers=auth,
    )
    assert resp.status_code == 201, resp.get_json()
    st = _type("welfare-check")
    assert (st.public, st.sensitive, st.emergency_notice) == (False, True, "")


def test_internal_types_are_hidden_from_residents_and_open311_not_from_agents(client, city) -> None:
    _set("graffiti", public=False)
    _set("streetlight", active=False)
    resident = client.get("/").get_data(as_text=True)
    assert 'value="graffiti"' not in resident and 'value="pothole"' in resident
    assert 'value="streetlight"' not in resident
    codes = {s["service_code"] for s in client.get("/open311/v2/services.json").get_json()}
    assert "graffiti" not in codes and "streetlight" not in codes and "pothole" in codes
    assert client.get("/open311/v2/services/graffiti.json").status_code == 404
    assert "graffiti" not in {s["code"] for s in client.get("/api/v1/services").get_json()}
    # a resident posting the internal code is told it does not exist
    resp = _report(client, "graffiti", "Tag")
    assert resp.status_code == 400 and "Unknown service code" in resp.get_data(as_text=True)
    # staff still log calls of it
    sign_in(client, city.users["agent"])
    assert 'value="graffiti"' in client.get("/agent/requests/new").get_data(as_text=True)
    sr = submit("graffiti", channel="phone", actor_id=city.users["agent"].id)
    assert sr.service_type.code == "graffiti"


def test_an_emergency_type_shows_its_notice_and_open311_refuses_it(client, city) -> None:
    _set("graffiti", emergency_notice=NOTICE)
    page = client.get("/").get_data(as_text=True)
    assert NOTICE in page and 'data-emergency-for="graffiti"' in page
    assert 'data-emergency="1"' in page  # the option the script swaps the form for
    resp = _report(client, "graffiti", "Gas!")
    assert resp.status_code == 400 and NOTICE in resp.get_data(as_text=True)
    _, key = keys.create_key("Test client", "dev@client.test")
    db.session.commit()
    resp = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": key,
            "service_code": "graffiti",
            "lat": "42.32",
            "long": "-71.08",
            "description": "Gas smell",
        },
    )
    assert resp.status_code == 400
    assert NOTICE in resp.get_data(as_text=True) and "call" in resp.get_data(as_text=True)
    assert db.session.scalar(select(ServiceType.id).where(ServiceType.code == "graffiti"))


def test_a_sensitive_type_publishes_a_generalised_location(client, city, app) -> None:
    _set("graffiti", sensitive=True)
    exact = (42.321234, -71.081234)
    sr = submit("graffiti", exact, address="12 Quiet Lane")
    db.session.commit()
    metres = app.config["PUBLIC_LOCATION_GRID_METRES"]
    snapped = snap_to_grid(*exact, metres)
    assert snapped != exact
    page = client.get(f"/requests/{sr.id}").get_data(as_text=True)
    assert f'data-lat="{snapped[0]}"' in page and "12 Quiet Lane" not in page
    assert str(exact[0]) not in page
    public = client.get(f"/api/v1/requests/{sr.id}").get_json()
    assert (public["lat"], public["long"], public["address"]) == (*snapped, "")
    item = client.get(f"/open311/v2/requests/{sr.id}.json").get_json()[0]
    assert (item["lat"], item["long"], item["address"]) == (*snapped, None)
    # a type that is not sensitive keeps its exact point
    plain = submit("pothole", exact)
    db.session.commit()
    item = client.get(f"/open311/v2/requests/{plain.id}.json").get_json()[0]
    assert (item["lat"], item["long"]) == exact


def test_the_grid_puts_nearby_points_on_one_published_point() -> None:
    a = snap_to_grid(42.32001, -71.08001, 150)
    b = snap_to_grid(42.32002, -71.08003, 150)
    far = snap_to_grid(42.33, -71.08, 150)
    assert a == b and a != far
    # the published point is within a cell's diagonal of the real one
    assert abs(a[0] - 42.32001) * 111_320 <= 75 + 1
    assert snap_to_grid(42.32, -71.08, 0) == (42.32, -71.08)


def test_the_preview_renders_the_resident_form_and_the_open311_definition(client, city) -> None:
    sign_in(client, city.users["admin"])
    st = _type("pothole")
    form = _edit_form(
        st,
        code="pothole",
        **{
            "q-count": "1",
            "q-0-code": "depth",
            "q-0-description": "How deep is it?",
            "q-0-datatype": "singlevaluelist",
            "q-0-values": "shallow=Shallow\ndeep=Deep",
            "q-0-required": "1",
        },
    )
    resp = client.post("/admin/service-types/preview", data=form)
    assert resp.status_code == 200
    body = resp.get_json()
    assert 'name="attribute[depth]"' in body["form_html"] and "How deep is it?" in body["form_html"]
    assert "(required)" in body["form_html"]
    assert body["definition"] == {
        "service_code": "pothole",
        "attributes": [
            {
                "variable": True,
                "code": "depth",
                "datatype": "singlevaluelist",
                "required": True,
                "datatype_description": None,
                "order": 1,
                "description": "How deep is it?",
                "values": [{"key": "shallow", "name": "Shallow"}, {"key": "deep", "name": "Deep"}],
            }
        ],
    }
    # nothing was saved
    assert _type("pothole").attributes == st.attributes
    # a list question without values: the message saving would give
    form["q-0-values"] = ""
    resp = client.post("/admin/service-types/preview", data=form)
    assert resp.status_code == 400 and "needs values" in resp.get_json()["error"]
    # the edit page shows the preview of the saved type at once, and loads its script
    page = client.get("/admin/service-types/pothole").get_data(as_text=True)
    assert 'id="preview-definition"' in page and "js/service-type-preview.js" in page
    assert '"service_code": "pothole"' in page


def test_the_preview_api_matches_open311(client, city, tokens) -> None:
    attrs = [{"code": "size", "description": "Size", "datatype": "string", "order": 1}]
    resp = client.post(
        "/api/v1/admin/service-types/preview",
        json={"code": "pothole", "name": "Pothole", "attributes": attrs},
        headers=bearer(tokens["admin"]),
    )
    assert resp.status_code == 200
    assert resp.get_json()["definition"]["attributes"][0]["code"] == "size"
    resp = client.post(
        "/api/v1/admin/service-types/preview",
        json={"attributes": [{"code": "a"}, {"code": "a"}]},
        headers=bearer(tokens["admin"]),
    )
    assert resp.status_code == 400


@pytest.mark.parametrize("role", NON_ADMINS)
def test_the_preview_is_403_for_other_roles(client, city, tokens, role) -> None:
    sign_in(client, city.users[role])
    assert client.post("/admin/service-types/preview", data={"q-count": "0"}).status_code == 403
    resp = client.post("/api/v1/admin/service-types/preview", json={}, headers=bearer(tokens[role]))
    assert resp.status_code == 403

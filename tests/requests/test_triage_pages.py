"""The pages of routing: the admin's rules, the 311 triage queue and the transfer form."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.requests import lifecycle, routing
from app.requests.models import RequestEvent, RoutingRule, ServiceRequest
from tests.factories import WARD_1_POINT, make_department, make_service_type, submit
from tests.helpers import sign_in


def html(resp) -> str:
    return resp.get_data(as_text=True)


def fresh(sr: ServiceRequest) -> ServiceRequest:
    db.session.expire_all()
    return db.session.get(ServiceRequest, sr.id)


@pytest.fixture
def other(city):
    """An "Other / not sure" type of the call centre, whose requests await triage."""
    call_centre = make_department("311", "311 Call Centre")
    st = make_service_type("other", call_centre, name="Other / not sure", sla_value=48)
    st.triage = True
    db.session.flush()
    return st


# ---------------------------------------------------------------------------------------------
# the triage queue


def test_the_triage_queue_lists_open_requests_of_triage_types(client, city, other):
    first = submit("other", description="Water pools at the corner")
    second = submit("other", description="Strange smell from the drain")
    done = submit("other", description="Already sorted out")
    lifecycle.close(done, reason="no_action_needed", actor_id=None, note="Resolved by phone")
    typed = submit("pothole", description="A typed pothole")
    # they belong to the triage type's department all the while
    assert fresh(first).department.code == "311"

    sign_in(client, city.users["agent"])
    resp = client.get("/staff/triage")
    assert resp.status_code == 200
    page = html(resp)
    assert "2 requests to triage" in page
    assert page.index("Water pools at the corner") < page.index("Strange smell from the drain")
    assert f"/staff/requests/{first.id}/transfer" in page
    assert f"/staff/requests/{second.id}/transfer" in page
    assert "Already sorted out" not in page and typed.description not in page
    assert 'href="/staff/triage"' in page  # the nav link


@pytest.mark.parametrize("role", ["dispatcher", "crew"])
def test_the_triage_queue_is_for_agents_and_supervisors(client, city, other, role):
    sign_in(client, city.users[role])
    assert client.get("/staff/triage").status_code == 403


# ---------------------------------------------------------------------------------------------
# the transfer form


def test_an_agent_recategorises_a_triage_request_from_the_form(client, city, other):
    routing.create_rule("pothole", district_code="1", crew_id=city.crew_b.id)
    sr = submit("other", WARD_1_POINT, description="A hole in the road, I think")
    requested_at = sr.requested_at
    sign_in(client, city.users["agent"])

    form = client.get(f"/staff/requests/{sr.id}/transfer")
    assert form.status_code == 200
    assert 'value="pothole"' in html(form) and 'value="other"' not in html(form)

    resp = client.post(
        f"/staff/requests/{sr.id}/transfer",
        data={"service_code": "pothole", "note": "Caller described a pothole"},
    )
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/staff/requests/{sr.id}")
    sr = fresh(sr)
    assert (sr.service_type.code, sr.department.code, sr.crew_id) == (
        "pothole",
        "PWD",
        city.crew_b.id,
    )
    assert sr.requested_at == requested_at
    assert "Pothole crew B" in html(client.get(f"/staff/requests/{sr.id}"))  # the flash
    assert "0 requests to triage" in html(client.get("/staff/triage"))


def test_a_transfer_without_a_note_shows_why_and_changes_nothing(client, city, other):
    sr = submit("other")
    sign_in(client, city.users["agent"])
    resp = client.post(
        f"/staff/requests/{sr.id}/transfer", data={"service_code": "pothole", "note": " "}
    )
    assert resp.status_code == 422
    assert "the new department reads the note" in html(resp)
    assert 'value="pothole" selected' in html(resp)  # what was chosen is kept
    missing = client.post(f"/staff/requests/{sr.id}/transfer", data={"note": "Pothole"})
    assert missing.status_code == 400 and "Choose the type" in html(missing)
    assert fresh(sr).service_type.code == "other"
    assert not db.session.scalar(
        select(func.count()).where(
            RequestEvent.request_id == sr.id, RequestEvent.kind == "transferred"
        )
    )


def test_a_dispatcher_of_another_department_gets_no_transfer_form(client, city, other):
    sr = submit("pothole")
    sign_in(client, city.users["parks_dispatcher"])
    assert client.get(f"/staff/requests/{sr.id}/transfer").status_code == 403
    refused = client.post(
        f"/staff/requests/{sr.id}/transfer", data={"service_code": "graffiti", "note": "Paint"}
    )
    assert refused.status_code == 403
    assert fresh(sr).service_type.code == "pothole"


# ---------------------------------------------------------------------------------------------
# the admin's routing rules


def test_an_admin_adds_and_deletes_rules_on_the_page(client, city):
    sign_in(client, city.users["admin"])
    page = client.get("/admin/routing-rules")
    assert page.status_code == 200
    assert "No rules yet" in html(page) and "Ward 2" in html(page)

    added = client.post(
        "/admin/routing-rules",
        data={
            "service_code": "pothole",
            "district": "2",
            "department": "",
            "crew_id": str(city.crew_a.id),
        },
    )
    assert added.status_code == 303
    listed = html(client.get("/admin/routing-rules"))
    assert "Pothole in Ward 2 now goes to Public Works, crew Pothole crew A." in listed
    (rule,) = routing.list_rules()
    assert (rule.district_id, rule.department_id, rule.crew_id) == (
        city.ward2.id,
        city.public_works.id,
        city.crew_a.id,
    )

    again = client.post(
        "/admin/routing-rules",
        data={"service_code": "pothole", "district": "2", "department": "PARKS"},
    )
    assert again.status_code == 409 and "already has a routing rule in Ward 2" in html(again)
    foreign = client.post(
        "/admin/routing-rules",
        data={"service_code": "graffiti", "department": "PWD", "crew_id": str(city.parks_crew.id)},
    )
    assert foreign.status_code == 400 and "must belong to the rule&#39;s department" in html(
        foreign
    )
    assert db.session.scalar(select(func.count()).select_from(RoutingRule)) == 1

    deleted = client.post(f"/admin/routing-rules/{rule.id}/delete")
    assert deleted.status_code == 303
    assert "Deleted the rule for Pothole in Ward 2." in html(client.get("/admin/routing-rules"))
    assert routing.list_rules() == []


@pytest.mark.parametrize("role", ["agent", "dispatcher", "manager"])
def test_the_rules_page_is_for_admins(client, city, role):
    sign_in(client, city.users[role])
    assert client.get("/admin/routing-rules").status_code == 403
    assert (
        client.post(
            "/admin/routing-rules", data={"service_code": "pothole", "department": "PARKS"}
        ).status_code
        == 403
    )
    assert routing.list_rules() == []

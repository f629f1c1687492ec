"""Staff request handling on the real stack: find a request, acknowledge, note, close, reopen."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.extensions import db
from app.notifications.models import Outbox
from app.requests import service
from app.requests.models import RequestEvent, ServiceRequest
from tests.factories import submit
from tests.helpers import bearer, sign_in


def fresh(sr: ServiceRequest) -> ServiceRequest:
    db.session.expire_all()
    return db.session.get(ServiceRequest, sr.id)


def events(sr: ServiceRequest, kind: str | None = None) -> list[RequestEvent]:
    stmt = select(RequestEvent).where(RequestEvent.request_id == sr.id).order_by(RequestEvent.id)
    if kind:
        stmt = stmt.where(RequestEvent.kind == kind)
    return list(db.session.scalars(stmt))


def closure_notices(sr: ServiceRequest) -> list[Outbox]:
    return list(
        db.session.scalars(
            select(Outbox).where(Outbox.request_id == sr.id, Outbox.event == "closed")
        )
    )


def post(client, token: str | None, path: str, body: dict | None = None):
    return client.post(path, json=body or {}, headers=bearer(token) if token else {})


# ---------------------------------------------------------------------------------------------
# API: roles


@pytest.mark.parametrize(
    "action, body",
    [
        ("acknowledge", {}),
        ("close", {"reason": "duplicate", "note": "Same as 1"}),
        ("reopen", {"note": "Still broken"}),
        ("notes", {"note": "Called back"}),
    ],
)
def test_every_action_needs_credentials(client, city, action, body):
    sr = submit()
    resp = post(client, None, f"/api/v1/requests/{sr.id}/{action}", body)
    assert resp.status_code == 401
    assert "Bearer" in resp.get_json()["message"]


def test_an_empty_body_without_credentials_is_401_not_422(client, city):
    sr = submit()
    resp = client.post(f"/api/v1/requests/{sr.id}/close")
    assert resp.status_code == 401


@pytest.mark.parametrize("action", ["acknowledge", "close", "reopen"])
def test_crew_may_not_handle_requests(client, city, tokens, action):
    sr = submit()
    body = {"reason": "duplicate", "note": "x"} if action == "close" else {"note": "x"}
    resp = post(client, tokens["crew"], f"/api/v1/requests/{sr.id}/{action}", body)
    assert resp.status_code == 403
    assert fresh(sr).status == "new"


@pytest.mark.parametrize(
    "action, body",
    [
        ("acknowledge", {}),
        ("close", {"reason": "duplicate", "note": "Same as 1"}),
        ("notes", {"note": "Peeking"}),
    ],
)
def test_a_dispatcher_of_another_department_is_refused(client, city, tokens, action, body):
    sr = submit()  # a pothole: Public Works
    resp = post(client, tokens["parks_dispatcher"], f"/api/v1/requests/{sr.id}/{action}", body)
    assert resp.status_code == 403
    assert "Public Works" in resp.get_json()["message"]
    assert fresh(sr).status == "new"
    assert [e.kind for e in events(sr)] == ["created"]


def test_a_dispatcher_of_another_department_may_not_reopen(client, city, tokens):
    sr = submit()
    service.close(sr, reason="fixed", actor_id=None, note="Filled")
    resp = post(
        client, tokens["parks_dispatcher"], f"/api/v1/requests/{sr.id}/reopen", {"note": "x"}
    )
    assert resp.status_code == 403
    assert fresh(sr).status == "closed"


def test_an_agent_may_reopen_and_add_notes_but_not_close_or_acknowledge(client, city, tokens):
    sr = submit()
    agent = tokens["agent"]
    assert post(client, agent, f"/api/v1/requests/{sr.id}/acknowledge").status_code == 403
    resp = post(client, agent, f"/api/v1/requests/{sr.id}/close", {"reason": "fixed"})
    assert resp.status_code == 403
    assert fresh(sr).status == "new"

    resp = post(client, agent, f"/api/v1/requests/{sr.id}/notes", {"note": "Caller rang again"})
    assert resp.status_code == 201
    service.close(fresh(sr), reason="fixed", actor_id=None, note="Filled")
    resp = post(
        client, agent, f"/api/v1/requests/{sr.id}/reopen", {"note": "Caller says it is not fixed"}
    )
    assert resp.status_code == 200
    assert resp.get_json()["status"] == "acknowledged"
    reopened = events(sr, "reopened")[0]
    assert reopened.actor_id == city.users["agent"].id
    assert reopened.note == "Caller says it is not fixed"


@pytest.mark.parametrize("role", ["dispatcher", "manager", "admin"])
def test_dispatcher_manager_and_admin_may_acknowledge(client, city, tokens, role):
    sr = submit()
    resp = post(client, tokens[role], f"/api/v1/requests/{sr.id}/acknowledge")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "acknowledged"
    assert body["acknowledged_at"] is not None
    assert body["reporter"]["email"] == "rita@example.org"  # the staff view
    assert events(sr, "acknowledged")[0].actor_id == city.users[role].id


def test_acknowledging_twice_is_a_conflict(client, city, tokens):
    sr = submit()
    url = f"/api/v1/requests/{sr.id}/acknowledge"
    assert post(client, tokens["dispatcher"], url).status_code == 200
    resp = post(client, tokens["dispatcher"], url)
    assert resp.status_code == 409
    assert "only a new request" in resp.get_json()["message"]
    assert len(events(sr, "acknowledged")) == 1


def test_an_unknown_request_is_404(client, city, tokens):
    resp = post(client, tokens["dispatcher"], "/api/v1/requests/999999999/acknowledge")
    assert resp.status_code == 404
    assert "999999999" in resp.get_json()["message"]


# ---------------------------------------------------------------------------------------------
# API: close and reopen


def test_closing_as_duplicate_owes_the_reporter_a_closure_notice(client, city, tokens):
    sr = submit(email="Caller@Example.org")
    resp = post(
        client,
        tokens["dispatcher"],
        f"/api/v1/requests/{sr.id}/close",
        {"reason": "duplicate", "note": "Already reported as request 41; follow that one."},
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert (body["status"], body["closure_reason"]) == ("closed", "duplicate")
    assert body["closure_note"] == "Already reported as request 41; follow that one."
    [notice] = closure_notices(sr)
    assert notice.recipient == "caller@example.org"
    assert notice.status == "pending"
    assert notice.payload["reason"] == "duplicate"
    assert notice.payload["note"] == "Already reported as request 41; follow that one."
    closed = events(sr, "closed")[0]
    assert closed.actor_id == city.users["dispatcher"].id and closed.public


@pytest.mark.parametrize("reason", ["no_action_needed", "referred", "could_not_locate"])
def test_every_reason_closes_with_a_note(client, city, tokens, reason):
    sr = submit()
    resp = post(
        client,
        tokens["manager"],
        f"/api/v1/requests/{sr.id}/close",
        {"reason": reason, "note": "Why"},
    )
    assert resp.status_code == 200
    assert fresh(sr).closure_reason == reason


def test_fixed_needs_no_note(client, city, tokens):
    sr = submit()
    resp = post(
        client, tokens["dispatcher"], f"/api/v1/requests/{sr.id}/close", {"reason": "fixed"}
    )
    assert resp.status_code == 200
    assert (fresh(sr).status, fresh(sr).closure_reason) == ("closed", "fixed")


@pytest.mark.parametrize(
    "body, field, words",
    [
        ({"reason": "duplicate"}, "note", "say why, the reporter reads it"),
        ({"reason": "duplicate", "note": "   "}, "note", "say why"),
        ({"note": "Gone"}, "reason", "reason is required"),
        ({"reason": "bored", "note": "x"}, "reason", "must be one of"),
        ({"reason": "referred", "note": "x" * 4001}, "note", "longer than 4000"),
    ],
)
def test_bad_close_input_is_422_and_nothing_changes(client, city, tokens, body, field, words):
    sr = submit()
    resp = post(client, tokens["dispatcher"], f"/api/v1/requests/{sr.id}/close", body)
    assert resp.status_code == 422
    payload = resp.get_json()
    assert words in payload["message"]
    assert field in payload["errors"]["json"]
    assert fresh(sr).status == "new"
    assert closure_notices(sr) == []


def test_malformed_json_is_400(client, city, tokens):
    sr = submit()
    resp = client.post(
        f"/api/v1/requests/{sr.id}/close",
        data="{reason: duplicate",
        content_type="application/json",
        headers=bearer(tokens["dispatcher"]),
    )
    assert resp.status_code == 400
    assert resp.get_json()["message"]


def test_closing_a_closed_request_is_a_conflict(client, city, tokens):
    sr = submit()
    url = f"/api/v1/requests/{sr.id}/close"
    assert post(client, tokens["dispatcher"], url, {"reason": "fixed"}).status_code == 200
    resp = post(client, tokens["dispatcher"], url, {"reason": "duplicate", "note": "x"})
    assert resp.status_code == 409
    assert "already closed" in resp.get_json()["message"]
    assert fresh(sr).closure_reason == "fixed"


def test_reopen_after_close_then_close_again_owes_a_second_notice(client, city, tokens):
    sr = submit()
    url = f"/api/v1/requests/{sr.id}"
    d = tokens["dispatcher"]
    assert (
        post(
            client,
            d,
            url + "/close",
            {"reason": "could_not_locate", "note": "No hole at 12 Main St"},
        ).status_code
        == 200
    )
    resp = post(client, d, url + "/reopen", {"note": "Caller gave the right address: 21 Main St"})
    assert resp.status_code == 200
    body = resp.get_json()
    assert (body["status"], body["closed_at"], body["closure_reason"]) == (
        "acknowledged",
        None,
        None,
    )
    assert "reopened" in [e["kind"] for e in body["history"]]
    assert post(client, d, url + "/close", {"reason": "fixed"}).status_code == 200
    assert sorted(n.payload["reason"] for n in closure_notices(sr)) == ["could_not_locate", "fixed"]


def test_reopening_an_open_request_is_a_conflict(client, city, tokens):
    sr = submit()
    resp = post(client, tokens["agent"], f"/api/v1/requests/{sr.id}/reopen", {"note": "why"})
    assert resp.status_code == 409
    assert "not closed" in resp.get_json()["message"]


def test_reopen_needs_a_note(client, city, tokens):
    sr = submit()
    service.close(sr, reason="fixed", actor_id=None)
    for body in ({}, {"note": "  "}):
        resp = post(client, tokens["agent"], f"/api/v1/requests/{sr.id}/reopen", body)
        assert resp.status_code == 422
        assert "say why the request is reopened" in resp.get_json()["message"]
    assert fresh(sr).status == "closed"


# ---------------------------------------------------------------------------------------------
# API: notes and their visibility


def test_an_internal_note_is_for_staff_only(client, city, tokens):
    sr = submit()
    resp = post(
        client,
        tokens["dispatcher"],
        f"/api/v1/requests/{sr.id}/notes",
        {"note": "Reporter is the property owner; call before 9"},
    )
    assert resp.status_code == 201
    staff = resp.get_json()
    note = [e for e in staff["events"] if e["kind"] == "note"][0]
    assert note["public"] is False
    assert note["actor"]["email"] == "dispatcher@city.test"

    public = client.get(f"/api/v1/requests/{sr.id}").get_json()
    assert "call before 9" not in json.dumps(public)
    assert "reporter" not in public and "events" not in public
    page = client.get(f"/requests/{sr.id}").get_data(as_text=True)
    assert "call before 9" not in page
    staff_again = client.get(f"/api/v1/requests/{sr.id}", headers=bearer(tokens["agent"]))
    assert "call before 9" in json.dumps(staff_again.get_json())


def test_a_public_note_is_shown_to_residents(client, city, tokens):
    sr = submit()
    resp = post(
        client,
        tokens["agent"],
        f"/api/v1/requests/{sr.id}/notes",
        {"note": "We have asked the gas company to look", "public": True},
    )
    assert resp.status_code == 201
    public = client.get(f"/api/v1/requests/{sr.id}").get_json()
    assert "We have asked the gas company to look" in [e["note"] for e in public["history"]]
    assert "asked the gas company" in client.get(f"/requests/{sr.id}").get_data(as_text=True)


def test_crew_may_note_their_own_departments_requests_only(client, city, tokens):
    mine = submit()
    theirs = submit("graffiti")
    ok = post(
        client,
        tokens["crew"],
        f"/api/v1/requests/{mine.id}/notes",
        {"note": "Needs a bigger truck"},
    )
    assert ok.status_code == 201
    refused = post(client, tokens["crew"], f"/api/v1/requests/{theirs.id}/notes", {"note": "x"})
    assert refused.status_code == 403


@pytest.mark.parametrize(
    "body, words",
    [
        ({}, "note is required"),
        ({"note": " "}, "write the note"),
        ({"note": "x", "public": "maybe"}, "true or false"),
    ],
)
def test_bad_notes_are_422(client, city, tokens, body, words):
    sr = submit()
    resp = post(client, tokens["dispatcher"], f"/api/v1/requests/{sr.id}/notes", body)
    assert resp.status_code == 422
    assert words in resp.get_json()["message"]
    assert events(sr, "note") == []


# ---------------------------------------------------------------------------------------------
# API: search


def search(client, token, **params):
    return client.get("/api/v1/requests", query_string=params, headers=bearer(token))


def ids(resp) -> list[int]:
    assert resp.status_code == 200, resp.get_json()
    return [item["id"] for item in resp.get_json()]


def test_search_needs_a_staff_token(client, city):
    assert client.get("/api/v1/requests?q=pothole").status_code == 401


def test_search_by_request_number(client, city, tokens):
    wanted = submit()
    submit(address=f"{wanted.id} Main St")  # the number in another request's words
    resp = search(client, tokens["agent"], q=str(wanted.id))
    assert ids(resp) == [wanted.id]
    item = resp.get_json()[0]
    assert item["reporter"] == {
        "name": "Rita Reporter",
        "email": "rita@example.org",
        "phone": "(617) 555-0199",
    }
    assert item["service"]["code"] == "pothole" and item["department"]["code"] == "PWD"
    assert ids(search(client, tokens["agent"], q=f"#{wanted.id}")) == [wanted.id]


def test_search_by_email_ignores_case(client, city, tokens):
    hers = submit(email="Jo.Smith@Example.org")
    submit(email="someone.else@example.org")
    assert ids(search(client, tokens["agent"], q="JO.SMITH@example.ORG")) == [hers.id]


@pytest.mark.parametrize(
    "stored, typed",
    [
        ("(617) 555-0199", "+1 617 555 0199"),
        ("+1 617 555 0199", "(617) 555-0199"),
        ("617.555.0199", "6175550199"),
        ("(617) 555-0199", "555-0199"),  # no area code: the numbers ending with it
    ],
)
def test_search_by_phone_compares_digits(client, city, tokens, stored, typed):
    caller = submit(phone=stored)
    submit(phone="(617) 555-0100")
    submit(phone="")
    assert ids(search(client, tokens["agent"], q=typed)) == [caller.id]


def test_search_by_words_matches_description_and_address_newest_first(client, city, tokens):
    older = submit(description="Huge pothole near the school", address="5 Elm St")
    newer = submit(description="Pothole again", address="9 Elm Street")
    submit(description="Streetlight flickers", address="5 Oak St")
    assert ids(search(client, tokens["agent"], q="pothole elm")) == [newer.id, older.id]
    assert ids(search(client, tokens["agent"], q="SCHOOL")) == [older.id]
    assert ids(search(client, tokens["agent"], q="100%")) == []  # % is a character, not a wildcard


def test_search_filters_by_status_and_department(client, city, tokens):
    open_one = submit()
    closed_one = submit()
    service.close(closed_one, reason="fixed", actor_id=None)
    parks = submit("graffiti")
    token = tokens["manager"]
    assert set(ids(search(client, token, q="12 Main", status="open"))) == {open_one.id, parks.id}
    assert ids(search(client, token, q="12 Main", status="closed")) == [closed_one.id]
    assert ids(search(client, token, q="12 Main", department="PARKS")) == [parks.id]
    bad = search(client, token, status="done")
    assert bad.status_code == 422
    assert "status must be open or one of" in bad.get_json()["message"]
    assert search(client, token, department="NOPE").status_code == 404


def test_a_dispatcher_searches_their_own_department(client, city, tokens):
    pothole = submit()
    graffiti = submit("graffiti")
    assert ids(search(client, tokens["dispatcher"], q="12 Main")) == [pothole.id]
    assert ids(search(client, tokens["parks_dispatcher"], q="12 Main")) == [graffiti.id]
    assert ids(search(client, tokens["agent"], q="12 Main")) == [graffiti.id, pothole.id]
    assert search(client, tokens["dispatcher"], department="PARKS").status_code == 403


def test_search_pages_by_fifty(client, city, tokens):
    made = [submit(description=f"Batch item {i}") for i in range(52)]
    first = search(client, tokens["admin"], q="batch item")
    assert len(ids(first)) == 50
    assert json.loads(first.headers["X-Pagination"])["total"] == 52
    second = search(client, tokens["admin"], q="batch item", page=2)
    assert sorted(ids(second)) == sorted(sr.id for sr in made[:2])


# ---------------------------------------------------------------------------------------------
# HTML


def test_staff_pages_need_sign_in_and_a_desk_role(client, city):
    sr = submit()
    resp = client.get(f"/staff/requests/{sr.id}")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    sign_in(client, city.users["crew"])
    assert client.get(f"/staff/requests/{sr.id}").status_code == 403
    assert client.get("/staff/requests").status_code == 403


@pytest.mark.parametrize("role", ["agent", "dispatcher", "manager", "admin"])
def test_the_nav_links_to_find_a_request(client, city, role):
    sign_in(client, city.users[role])
    page = client.get("/staff/requests").get_data(as_text=True)
    assert 'href="/staff/requests">Find a request</a>' in page


def test_an_agent_finds_a_callers_request_by_phone(client, city):
    caller = submit(phone="+1 617 555 0199", description="Pothole by the bakery")
    sign_in(client, city.users["agent"])
    resp = client.get("/staff/requests", query_string={"q": "(617) 555-0199"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "1 request found" in page
    assert f'href="/staff/requests/{caller.id}"' in page
    assert "Pothole by the bakery" in page
    empty = client.get("/staff/requests", query_string={"q": "+1 212 000 0000"})
    text = empty.get_data(as_text=True)
    assert "No request matches" in text and 'href="/agent/requests/new"' in text


def test_the_detail_page_shows_staff_everything(client, city, tokens):
    sr = submit(attributes={"size": "large"}, channel="phone", actor_id=city.users["agent"].id)
    service.add_note(
        sr, actor_id=city.users["dispatcher"].id, note="Owner asked for a call", public=False
    )
    service.acknowledge(sr, actor_id=None)
    db.session.commit()
    sign_in(client, city.users["agent"])
    page = client.get(f"/staff/requests/{sr.id}").get_data(as_text=True)
    for expected in (
        f"Request {sr.id}: Pothole",
        "Public Works",
        "Ward 1",
        "12 Main St",
        "How big is it?",
        "Larger than a plate",
        "Rita Reporter",
        "rita@example.org",
        "(617) 555-0199",
        "phone",
        "agent@city.test",  # logged by
        "Owner asked for a call",
        "Internal",
        "openstreetmap.org",
        "Due",
    ):
        assert expected in page, expected
    # an agent may add notes; acknowledging and closing are the department's
    assert f"/staff/requests/{sr.id}/note" in page
    assert f"/staff/requests/{sr.id}/close" not in page
    assert f"/staff/requests/{sr.id}/acknowledge" not in page


def test_the_detail_page_lists_work_orders_from_the_history(client, city):
    sr = submit()
    service.mark_assigned(sr, actor_id=None, work_order_id=77, crew_name="Pothole crew A")
    db.session.commit()
    sign_in(client, city.users["dispatcher"])
    page = client.get(f"/staff/requests/{sr.id}").get_data(as_text=True)
    assert "#77 (Pothole crew A)" in page
    assert "does not call the crew off" in page


def test_a_dispatcher_acknowledges_and_closes_from_the_page(client, city):
    sr = submit()
    sign_in(client, city.users["dispatcher"])
    page = client.get(f"/staff/requests/{sr.id}").get_data(as_text=True)
    assert f"/staff/requests/{sr.id}/acknowledge" in page
    resp = client.post(f"/staff/requests/{sr.id}/acknowledge")
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/staff/requests/{sr.id}")
    assert fresh(sr).status == "acknowledged"
    page = client.get(f"/staff/requests/{sr.id}").get_data(as_text=True)
    assert f"Request {sr.id} acknowledged." in page

    resp = client.post(
        f"/staff/requests/{sr.id}/close",
        data={"reason": "referred", "note": "The gas company owns this trench."},
    )
    assert resp.status_code == 303
    assert (fresh(sr).status, fresh(sr).closure_reason) == ("closed", "referred")
    assert closure_notices(sr)[0].payload["note"] == "The gas company owns this trench."
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Referred to another agency" in page
    assert f"/staff/requests/{sr.id}/reopen" in page


def test_closing_without_a_note_shows_the_error_next_to_the_field(client, city):
    sr = submit()
    sign_in(client, city.users["dispatcher"])
    resp = client.post(f"/staff/requests/{sr.id}/close", data={"reason": "duplicate", "note": " "})
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert 'id="close-note" name="note"' in page
    assert 'aria-invalid="true" aria-describedby="close-note-error"' in page
    assert 'id="close-note-error"' in page and "the reporter reads it" in page
    assert '<option value="duplicate" selected>' in page  # what was chosen is kept
    assert fresh(sr).status == "new"

    resp = client.post(f"/staff/requests/{sr.id}/close", data={"reason": ""})
    assert resp.status_code == 400
    assert "Choose why the request is closed." in resp.get_data(as_text=True)


def test_closing_a_closed_request_from_the_page_is_409(client, city):
    sr = submit()
    service.close(sr, reason="fixed", actor_id=None)
    db.session.commit()
    sign_in(client, city.users["manager"])
    resp = client.post(f"/staff/requests/{sr.id}/close", data={"reason": "duplicate", "note": "x"})
    assert resp.status_code == 409
    assert "already closed" in resp.get_data(as_text=True)


def test_an_agent_reopens_from_the_page_and_may_not_close(client, city):
    sr = submit()
    service.close(sr, reason="fixed", actor_id=None, note="Filled")
    db.session.commit()
    sign_in(client, city.users["agent"])
    resp = client.post(f"/staff/requests/{sr.id}/reopen", data={"note": ""})
    assert resp.status_code == 400
    assert 'id="reopen-note-error"' in resp.get_data(as_text=True)
    resp = client.post(f"/staff/requests/{sr.id}/reopen", data={"note": "Caller: still a hole"})
    assert resp.status_code == 303
    assert fresh(sr).status == "acknowledged"
    resp = client.post(f"/staff/requests/{sr.id}/close", data={"reason": "fixed"})
    assert resp.status_code == 403
    assert fresh(sr).status == "acknowledged"


def test_notes_from_the_page_are_internal_unless_ticked(client, city):
    sr = submit()
    sign_in(client, city.users["dispatcher"])
    assert (
        client.post(f"/staff/requests/{sr.id}/note", data={"note": "Internal only"}).status_code
        == 303
    )
    resp = client.post(f"/staff/requests/{sr.id}/note", data={"note": "Crew booked", "public": "1"})
    assert resp.status_code == 303
    assert [(e.note, e.public) for e in events(sr, "note")] == [
        ("Internal only", False),
        ("Crew booked", True),
    ]
    public = client.get(f"/requests/{sr.id}").get_data(as_text=True)
    assert "Crew booked" in public and "Internal only" not in public
    assert client.post(f"/staff/requests/{sr.id}/note", data={"note": ""}).status_code == 400


def test_another_departments_dispatcher_sees_no_actions_and_is_refused(client, city):
    sr = submit()
    sign_in(client, city.users["parks_dispatcher"])
    page = client.get(f"/staff/requests/{sr.id}").get_data(as_text=True)
    assert "its department's staff act on it" in page
    resp = client.post(f"/staff/requests/{sr.id}/close", data={"reason": "fixed"})
    assert resp.status_code == 403
    assert fresh(sr).status == "new"


def test_the_queue_links_to_the_staff_page(client, city):
    sr = submit()
    sign_in(client, city.users["dispatcher"])
    page = client.get("/dispatch").get_data(as_text=True)
    assert f'href="/staff/requests/{sr.id}"' in page


def test_the_public_page_never_shows_the_reporter(client, city):
    sr = submit(name="Rita Reporter", email="rita@example.org", phone="(617) 555-0199")
    page = client.get(f"/requests/{sr.id}").get_data(as_text=True)
    assert "Rita" not in page and "rita@example.org" not in page and "555-0199" not in page

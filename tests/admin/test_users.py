"""Staff accounts in the admin area: invitations by email, role changes, deactivation,
password resets, the last-admin guard, and the audit they leave."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from app.auth.models import User
from app.core.audit import AuditEntry
from app.extensions import db
from app.notifications import tasks
from app.notifications.models import Outbox
from tests.factories import PASSWORD
from tests.helpers import bearer, sign_in

NON_ADMINS = ("agent", "dispatcher", "crew", "manager")
NEW_PASSWORD = "a brand new passphrase"
LINK = re.compile(r"http://city311\.test(/password/set/[A-Za-z0-9_.\-]+)")


def _entries(kind: str = "user") -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.target_kind == kind).order_by(AuditEntry.id)
        )
    )


def _user(email: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def _emailed_link(mailbox, email: str, count: int = 1) -> str:
    """Deliver the newest set-password email owed to `email` over SMTP; return its link path."""
    row = db.session.scalar(
        select(Outbox)
        .where(Outbox.event == "staff_password", Outbox.recipient == email)
        .order_by(Outbox.id.desc())
    )
    assert row is not None, f"no set-password email owed to {email}"
    assert tasks.deliver(row.id) == "sent"
    msg = mailbox.wait_for(count)[count - 1]
    assert msg["To"] == email
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    [path] = set(LINK.findall(text))
    assert path in html
    return path


@pytest.mark.parametrize("role", NON_ADMINS)
def test_the_user_pages_are_403_for_other_roles(client, city, role) -> None:
    sign_in(client, city.users[role])
    other = city.users["agent"].id
    for page in ("/admin/users", f"/admin/users/{other}", "/admin/tokens"):
        assert client.get(page).status_code == 403, page
    assert client.get(f"/admin/crews/{city.crew_a.id}/members").status_code == 403
    resp = client.post("/admin/users", data={"email": "x@city.test", "role": "admin"})
    assert resp.status_code == 403
    resp = client.post(f"/admin/users/{other}", data={"action": "deactivate"})
    assert resp.status_code == 403
    assert _user("x@city.test") is None and _user("agent@city.test").active


@pytest.mark.parametrize("role", NON_ADMINS)
def test_the_users_api_is_403_for_other_roles(client, tokens, city, role) -> None:
    auth = bearer(tokens[role])
    other = city.users["agent"].id
    calls = [
        ("get", "/api/v1/admin/users", None),
        ("post", "/api/v1/admin/users", {"email": "x@city.test", "role": "admin"}),
        ("get", f"/api/v1/admin/users/{other}", None),
        ("patch", f"/api/v1/admin/users/{other}", {"role": "admin"}),
        ("post", f"/api/v1/admin/users/{other}/password-reset", None),
        ("get", "/api/v1/admin/tokens", None),
        ("delete", "/api/v1/admin/tokens/1", None),
    ]
    for method, path, body in calls:
        resp = getattr(client, method)(path, json=body, headers=auth)
        assert resp.status_code == 403, (method, path)
    assert _user("x@city.test") is None and _user("agent@city.test").role == "agent"


def test_an_invitee_sets_a_password_from_the_emailed_link_once(client, app, city, mailbox):
    sign_in(client, city.users["admin"])
    resp = client.post(
        "/admin/users",
        data={"email": "New.Person@City.test", "name": "New Person", "role": "agent"},
    )
    assert resp.status_code == 303
    invitee = _user("new.person@city.test")
    assert (invitee.role, invitee.name, invitee.password_set) == ("agent", "New Person", False)
    page = client.get("/admin/users?q=new.person").get_data(as_text=True)
    assert "new.person@city.test" in page and "invited, no password yet" in page
    # no password works before the link is used
    sign_in(app.test_client(), "new.person@city.test", "", refused=True)

    path = _emailed_link(mailbox, "new.person@city.test")
    invitee_browser = app.test_client()
    form = invitee_browser.get(path)
    assert form.status_code == 200 and "new.person@city.test" in form.get_data(as_text=True)
    assert form.headers["Referrer-Policy"] == "no-referrer"
    assert form.headers["Cache-Control"] == "no-store"
    resp = invitee_browser.post(path, data={"password": "short", "confirm": "short"})
    assert resp.status_code == 400 and "at least 10 characters" in resp.get_data(as_text=True)
    resp = invitee_browser.post(path, data={"password": NEW_PASSWORD, "confirm": "other"})
    assert resp.status_code == 400 and "differ" in resp.get_data(as_text=True)
    resp = invitee_browser.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/login")
    sign_in(invitee_browser, "new.person@city.test", NEW_PASSWORD)

    # used once: the link is dead, for showing and for posting
    again = app.test_client()
    assert again.get(path).status_code == 404
    assert "not valid any more" in again.get(path).get_data(as_text=True)
    resp = again.post(path, data={"password": "hijacked password", "confirm": "hijacked password"})
    assert resp.status_code == 404
    sign_in(app.test_client(), "new.person@city.test", NEW_PASSWORD)

    entries = _entries()
    assert [(e.action, e.actor_email) for e in entries] == [
        ("invite", "admin@city.test"),
        ("set_password", "new.person@city.test"),
    ]
    assert entries[0].after == {
        "email": "new.person@city.test",
        "name": "New Person",
        "role": "agent",
        "department": None,
        "crew": None,
        "active": True,
    }
    stored = json.dumps([[e.before, e.after] for e in db.session.scalars(select(AuditEntry))])
    token = path.rsplit("/", 1)[1]
    assert token not in stored and NEW_PASSWORD not in stored and "hash" not in stored


def test_a_forged_or_tampered_link_is_refused(client, city) -> None:
    assert client.get("/password/set/not-a-token").status_code == 404
    assert client.post("/password/set/x.y.z", data={"password": "x" * 12}).status_code == 404


def test_inviting_through_the_api_sends_the_email(client, city, tokens, mailbox) -> None:
    auth = bearer(tokens["admin"])
    resp = client.post(
        "/api/v1/admin/users",
        json={"email": "disp@city.test", "role": "dispatcher", "department": "PARKS"},
        headers=auth,
    )
    assert resp.status_code == 201
    body = resp.get_json()
    assert (body["email"], body["role"], body["department"], body["crew"]) == (
        "disp@city.test",
        "dispatcher",
        "PARKS",
        None,
    )
    assert body["password_set"] is False and body["last_sign_in_at"] is None
    assert "password_hash" not in body
    path = _emailed_link(mailbox, "disp@city.test")
    resp = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert resp.status_code == 303
    token = client.post(
        "/api/v1/auth/tokens", json={"email": "disp@city.test", "password": NEW_PASSWORD}
    )
    assert token.status_code == 201

    dup = client.post(
        "/api/v1/admin/users", json={"email": "DISP@city.test", "role": "agent"}, headers=auth
    )
    assert dup.status_code == 409 and "already an account" in dup.get_json()["message"]
    bad = [
        ({"email": "d2@city.test", "role": "dispatcher"}, 400, "needs a department"),
        ({"email": "c2@city.test", "role": "crew"}, 400, "needs a crew"),
        ({"email": "c3@city.test", "role": "crew", "crew_id": 999999}, 404, "no crew"),
        ({"email": "a2@city.test", "role": "agent", "department": "NOPE"}, 404, "NOPE"),
        ({"email": "not an email", "role": "agent"}, 400, "not an email"),
        ({"email": "r@city.test", "role": "boss"}, 422, "role"),
        ({"role": "agent"}, 422, "email"),
    ]
    for payload, status, words in bad:
        resp = client.post("/api/v1/admin/users", json=payload, headers=auth)
        assert resp.status_code == status, payload
        assert words in json.dumps(resp.get_json()), payload
    made = select(User).where(User.email.in_(["d2@city.test", "c3@city.test", "r@city.test"]))
    assert db.session.scalar(made) is None
    assert [e.action for e in _entries()] == ["invite", "set_password"]
    # nothing half-stored: one email owed, to the one account made
    owed = db.session.scalars(select(Outbox.recipient).where(Outbox.event == "staff_password"))
    assert list(owed) == ["disp@city.test"]


def test_a_duplicate_email_is_refused_on_the_form(client, city) -> None:
    sign_in(client, city.users["admin"])
    resp = client.post("/admin/users", data={"email": "agent@city.test", "role": "agent"})
    assert resp.status_code == 409
    page = resp.get_data(as_text=True)
    assert "already an account for agent@city.test" in page and 'aria-invalid="true"' in page
    resp = client.post("/admin/users", data={"email": "d@city.test", "role": "dispatcher"})
    assert resp.status_code == 400 and "A dispatcher needs a department" in resp.get_data(
        as_text=True
    )
    assert _entries() == []


def test_the_last_active_admin_cannot_be_removed(client, city, tokens) -> None:
    admin = city.users["admin"]
    sign_in(client, admin)
    resp = client.post(f"/admin/users/{admin.id}", data={"action": "deactivate"})
    assert resp.status_code == 409
    assert "last active admin" in resp.get_data(as_text=True)
    resp = client.post(
        f"/admin/users/{admin.id}",
        data={"action": "update", "role": "manager", "department": "", "crew": ""},
    )
    assert resp.status_code == 409
    auth = bearer(tokens["admin"])
    for change in ({"active": False}, {"role": "agent"}):
        resp = client.patch(f"/api/v1/admin/users/{admin.id}", json=change, headers=auth)
        assert resp.status_code == 409 and "last active admin" in resp.get_json()["message"]
    assert (_user("admin@city.test").role, _user("admin@city.test").active) == ("admin", True)
    assert _entries() == []

    # an invited admin who has not chosen a password yet does not count
    resp = client.post(
        "/api/v1/admin/users", json={"email": "admin2@city.test", "role": "admin"}, headers=auth
    )
    assert resp.status_code == 201
    resp = client.patch(f"/api/v1/admin/users/{admin.id}", json={"active": False}, headers=auth)
    assert resp.status_code == 409 and "chosen its password" in resp.get_json()["message"]

    # with a second admin, the first may step down
    manager = city.users["manager"]
    resp = client.patch(f"/api/v1/admin/users/{manager.id}", json={"role": "admin"}, headers=auth)
    assert resp.status_code == 200
    resp = client.patch(f"/api/v1/admin/users/{admin.id}", json={"role": "manager"}, headers=auth)
    assert resp.status_code == 200 and resp.get_json()["role"] == "manager"
    # ... and the remaining one is the last again
    other = bearer(tokens["manager"])
    resp = client.patch(f"/api/v1/admin/users/{manager.id}", json={"active": False}, headers=other)
    assert resp.status_code == 409
    assert [(e.action, e.before["role"], e.after["role"]) for e in _entries()[1:]] == [
        ("update", "manager", "admin"),
        ("update", "admin", "manager"),
    ]


def test_deactivation_ends_sessions_and_revokes_tokens(client, app, city, tokens) -> None:
    agent = city.users["agent"]
    agent_browser = app.test_client()
    sign_in(agent_browser, agent)
    assert agent_browser.get("/staff/requests").status_code == 200
    assert client.get("/api/v1/auth/me", headers=bearer(tokens["agent"])).status_code == 200

    sign_in(client, city.users["admin"])
    resp = client.post(f"/admin/users/{agent.id}", data={"action": "deactivate", "back": "list"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/admin/users")

    assert agent_browser.get("/staff/requests").status_code == 302  # back to sign-in
    assert client.get("/api/v1/auth/me", headers=bearer(tokens["agent"])).status_code == 401
    sign_in(app.test_client(), agent, refused=True)
    listed = client.get("/api/v1/admin/tokens", headers=bearer(tokens["admin"])).get_json()
    [row] = [t for t in listed if t["user_email"] == "agent@city.test"]
    assert row["revoked_at"] is not None

    resp = client.post(f"/admin/users/{agent.id}", data={"action": "activate"})
    assert resp.status_code == 303
    sign_in(app.test_client(), agent)
    assert [e.action for e in _entries()] == ["deactivate", "activate"]
    assert _entries()[0].after["active"] is False


def test_a_reset_ends_sessions_voids_the_password_and_emails_a_new_link(
    client, app, city, tokens, mailbox
) -> None:
    crew = city.users["crew"]
    crew_browser = app.test_client()
    sign_in(crew_browser, crew)
    assert crew_browser.get("/crew").status_code == 200
    home = crew_browser.get("/api/v1/auth/me", headers=bearer(tokens["crew"]))
    assert home.status_code == 200

    sign_in(client, city.users["admin"])
    resp = client.post(f"/admin/users/{crew.id}", data={"action": "reset"})
    assert resp.status_code == 303
    first = _emailed_link(mailbox, "crew.a@city.test")

    assert crew_browser.get("/crew").status_code == 302  # the session ended
    assert client.get("/api/v1/auth/me", headers=bearer(tokens["crew"])).status_code == 401
    sign_in(app.test_client(), crew, PASSWORD, refused=True)  # the old password is void

    # a second reset makes the first link useless
    resp = client.post(
        f"/api/v1/admin/users/{crew.id}/password-reset", headers=bearer(tokens["admin"])
    )
    assert resp.status_code == 202
    second = _emailed_link(mailbox, "crew.a@city.test", count=2)
    assert first != second
    assert app.test_client().get(first).status_code == 404
    fresh = app.test_client()
    resp = fresh.post(second, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert resp.status_code == 303
    sign_in(fresh, crew, NEW_PASSWORD)
    msg = mailbox.messages[1]
    assert "reset the password" in msg.get_body(preferencelist=("plain",)).get_content()
    assert [e.action for e in _entries()] == ["reset_password", "reset_password", "set_password"]


def test_a_deactivated_account_gets_no_reset_link(client, city, tokens) -> None:
    agent = city.users["agent"]
    auth = bearer(tokens["admin"])
    client.patch(f"/api/v1/admin/users/{agent.id}", json={"active": False}, headers=auth)
    resp = client.post(f"/api/v1/admin/users/{agent.id}/password-reset", headers=auth)
    assert resp.status_code == 409 and "reactivate" in resp.get_json()["message"]
    assert db.session.scalar(select(Outbox.id).where(Outbox.event == "staff_password")) is None


def test_changing_role_department_and_crew_follows_the_rules(client, city, tokens) -> None:
    agent = city.users["agent"]
    sign_in(client, city.users["admin"])
    resp = client.post(
        f"/admin/users/{agent.id}",
        data={"action": "update", "role": "dispatcher", "department": "", "crew": ""},
    )
    assert resp.status_code == 400
    assert "A dispatcher needs a department" in resp.get_data(as_text=True)
    resp = client.post(
        f"/admin/users/{agent.id}",
        data={"action": "update", "role": "crew", "department": "", "crew": ""},
    )
    assert resp.status_code == 400 and "needs a crew" in resp.get_data(as_text=True)
    resp = client.post(
        f"/admin/users/{agent.id}",
        data={
            "action": "update",
            "name": "Alex Agent",
            "role": "crew",
            "department": "PARKS",
            "crew": str(city.crew_b.id),
        },
    )
    assert resp.status_code == 303
    user = _user("agent@city.test")
    # a crew member works for the crew's department, whatever the form said
    assert (user.role, user.crew_id, user.department_id, user.name) == (
        "crew",
        city.crew_b.id,
        city.public_works.id,
        "Alex Agent",
    )
    # leaving the crew role drops the crew
    auth = bearer(tokens["admin"])
    resp = client.patch(
        f"/api/v1/admin/users/{agent.id}",
        json={"role": "dispatcher", "department": "PARKS"},
        headers=auth,
    )
    assert resp.status_code == 200
    assert (resp.get_json()["crew"], resp.get_json()["department"]) == (None, "PARKS")
    resp = client.patch(
        f"/api/v1/admin/users/{agent.id}",
        json={"role": "agent", "crew_id": city.crew_a.id},
        headers=auth,
    )
    assert resp.status_code == 400 and "Only a crew member" in resp.get_json()["message"]
    assert client.patch("/api/v1/admin/users/999999", json={}, headers=auth).status_code == 404
    entries = _entries()
    assert [e.action for e in entries] == ["update", "update"]
    assert entries[0].before == {
        "email": "agent@city.test",
        "name": "",
        "role": "agent",
        "department": None,
        "crew": None,
        "active": True,
    }
    assert (entries[0].after["role"], entries[0].after["crew"]) == ("crew", "Pothole crew B")
    assert entries[1].after["department"] == "PARKS"

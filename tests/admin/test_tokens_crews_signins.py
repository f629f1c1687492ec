"""Staff API tokens, crew members and sign-ins in the admin area, and the audit they leave."""

from __future__ import annotations

from sqlalchemy import select

from app.auth.models import ApiToken, User
from app.core.audit import AuditEntry
from app.extensions import db
from tests.factories import PASSWORD
from tests.helpers import bearer, sign_in


def _entries(kind: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.target_kind == kind).order_by(AuditEntry.id)
        )
    )


def test_tokens_are_listed_without_the_token_and_revoked(client, city, tokens) -> None:
    sign_in(client, city.users["admin"])
    page = client.get("/admin/tokens").get_data(as_text=True)
    assert "dispatcher@city.test" in page and "never" in page
    assert all(token not in page for token in tokens.values())
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == city.users["dispatcher"].id))
    assert "dispatcher@city.test" in client.get("/admin/tokens?q=dispatch").get_data(as_text=True)
    assert "manager@city.test" not in client.get("/admin/tokens?q=dispatch").get_data(as_text=True)

    resp = client.post(f"/admin/tokens/{row.id}/revoke")
    assert resp.status_code == 303
    assert client.get("/api/v1/auth/me", headers=bearer(tokens["dispatcher"])).status_code == 401
    assert "revoked" in client.get("/admin/tokens?q=dispatch").get_data(as_text=True)

    auth = bearer(tokens["admin"])
    listed = client.get("/api/v1/admin/tokens", headers=auth).get_json()
    assert {t["user_email"] for t in listed} == {u.email for u in city.users.values()}
    assert all(
        set(t)
        == {
            "id",
            "user_id",
            "user_email",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
        }
        for t in listed
    )
    manager = db.session.scalar(
        select(ApiToken.id).where(ApiToken.user_id == city.users["manager"].id)
    )
    resp = client.delete(f"/api/v1/admin/tokens/{manager}", headers=auth)
    assert resp.status_code == 200 and resp.get_json()["revoked_at"] is not None
    again = client.delete(f"/api/v1/admin/tokens/{manager}", headers=auth)
    assert again.status_code == 200
    assert client.delete("/api/v1/admin/tokens/999999", headers=auth).status_code == 404
    revoked = _entries("api_token")
    assert [(e.action, e.target_label) for e in revoked] == [
        ("revoke", "dispatcher@city.test"),
        ("revoke", "manager@city.test"),
    ]
    assert revoked[0].before == {"revoked_at": None} and revoked[0].after["revoked_at"]


def test_a_token_notes_when_it_was_last_used(client, city, tokens) -> None:
    db.session.commit()  # as in production, the request starts with no transaction open
    assert client.get("/api/v1/auth/me", headers=bearer(tokens["agent"])).status_code == 200
    db.session.expire_all()
    used = db.session.scalar(
        select(ApiToken.last_used_at).where(ApiToken.user_id == city.users["agent"].id)
    )
    assert used is not None


def test_the_users_page_lists_and_revokes_their_tokens(client, city, tokens) -> None:
    agent = city.users["agent"]
    sign_in(client, city.users["admin"])
    page = client.get(f"/admin/users/{agent.id}").get_data(as_text=True)
    assert "API tokens" in page and "Revoke" in page and tokens["agent"] not in page
    token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == agent.id))
    resp = client.post(f"/admin/tokens/{token_id}/revoke", data={"back": str(agent.id)})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/admin/users/{agent.id}")


def test_crew_members_are_shown_added_and_removed(client, city) -> None:
    sign_in(client, city.users["admin"])
    crews = client.get("/admin/crews").get_data(as_text=True)
    assert f'href="/admin/crews/{city.crew_a.id}/members"' in crews
    page = client.get(f"/admin/crews/{city.crew_a.id}/members").get_data(as_text=True)
    assert "crew.a@city.test" in page
    members_part = page.split("Add a member")[0]
    assert "crew.b@city.test" not in members_part

    agent = city.users["agent"]
    url = f"/admin/crews/{city.crew_a.id}/members"
    assert client.post(url, data={"action": "add", "user": str(agent.id)}).status_code == 303
    db.session.expire_all()
    user = db.session.get(User, agent.id)
    assert (user.role, user.crew_id, user.department_id) == (
        "crew",
        city.crew_a.id,
        city.public_works.id,
    )
    crew_a = city.users["crew"]
    resp = client.post(url, data={"action": "remove", "user": str(crew_a.id), "role": "dispatcher"})
    assert resp.status_code == 303
    db.session.expire_all()
    moved = db.session.get(User, crew_a.id)
    assert (moved.role, moved.crew_id, moved.department_id) == (
        "dispatcher",
        None,
        city.public_works.id,
    )
    page = client.get(url).get_data(as_text=True).split("<h2>Members</h2>")[1].split("Add a")[0]
    assert "agent@city.test" in page and "crew.a@city.test" not in page

    # the user rules hold here too: making the last admin a crew member would leave no admin
    admin = city.users["admin"]
    resp = client.post(url, data={"action": "add", "user": str(admin.id)})
    assert resp.status_code == 409 and "last active admin" in resp.get_data(as_text=True)
    resp = client.post(url, data={"action": "remove", "user": str(agent.id), "role": "crew"})
    assert resp.status_code == 400
    resp = client.post(url, data={"action": "remove", "user": str(city.users["crew_b"].id)})
    assert resp.status_code == 400 and "is not in Pothole crew A" in resp.get_data(as_text=True)
    assert client.get("/admin/crews/999999/members").status_code == 404
    entries = _entries("user")
    assert [(e.target_label, e.before["role"], e.after["role"]) for e in entries] == [
        ("agent@city.test", "agent", "crew"),
        ("crew.a@city.test", "crew", "dispatcher"),
    ]


def test_sign_ins_and_failures_are_in_the_audit(client, app, city) -> None:
    sign_in(app.test_client(), city.users["agent"])
    sign_in(app.test_client(), "agent@city.test", "wrong password!", refused=True)
    sign_in(app.test_client(), "Nobody@Elsewhere.test", "guess guess", refused=True)
    resp = app.test_client().post(
        "/api/v1/auth/tokens", json={"email": "manager@city.test", "password": PASSWORD}
    )
    assert resp.status_code == 201
    resp = app.test_client().post(
        "/api/v1/auth/tokens", json={"email": "manager@city.test", "password": "nope"}
    )
    assert resp.status_code == 401

    entries = _entries("sign_in")
    assert [(e.action, e.actor_email, e.target_label) for e in entries] == [
        ("sign_in", "agent@city.test", "agent@city.test"),
        ("sign_in_failed", "", "agent@city.test"),
        ("sign_in_failed", "", "nobody@elsewhere.test"),
        ("sign_in", "manager@city.test", "manager@city.test"),
        ("sign_in_failed", "", "manager@city.test"),
    ]
    assert [(e.after["outcome"], e.after["via"]) for e in entries] == [
        ("ok", "form"),
        ("wrong password", "form"),
        ("unknown email", "form"),
        ("ok", "api"),
        ("wrong password", "api"),
    ]
    assert all(e.after["ip"] == "127.0.0.1" for e in entries)
    stored = repr([e.after for e in entries])
    assert (
        PASSWORD not in stored and "guess guess" not in stored and "wrong password!" not in stored
    )
    db.session.expire_all()
    assert db.session.get(User, city.users["agent"].id).last_sign_in_at is not None
    assert db.session.get(User, city.users["manager"].id).last_sign_in_at is not None
    assert db.session.get(User, city.users["crew"].id).last_sign_in_at is None

    sign_in(client, city.users["admin"])
    page = client.get("/admin/audit?kind=sign_in").get_data(as_text=True)
    assert "6 changes" in page  # the admin's own sign-in too
    assert "nobody@elsewhere.test" in page and "sign_in_failed" in page
    assert '<option value="sign_in" selected>' in page
    assert "department" not in client.get("/admin/audit?kind=sign_in").get_data(as_text=True)
    users_page = client.get("/admin/users?q=agent@").get_data(as_text=True)
    assert "never" not in users_page.split("agent@city.test", 1)[1].split("</tr>")[0]


def test_the_admin_index_and_menu_link_the_new_pages(client, city) -> None:
    sign_in(client, city.users["admin"])
    index = client.get("/admin").get_data(as_text=True)
    for href in ("/admin/users", "/admin/tokens"):
        assert f'href="{href}"' in index
    assert 'href="/admin/users">Users</a>' in client.get("/").get_data(as_text=True)

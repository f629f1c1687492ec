"""The users list and an account's page: search, and a form that keeps what it cannot offer."""

from __future__ import annotations

from sqlalchemy import select

from app.auth.models import User
from app.extensions import db
from tests.helpers import bearer, sign_in


def _user(email: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def test_the_user_list_searches_email_name_role_and_department(client, city, tokens) -> None:
    sign_in(client, city.users["admin"])
    page = client.get("/admin/users?q=parks").get_data(as_text=True)
    assert "parks.dispatcher@city.test" in page and "agent@city.test" not in page
    page = client.get("/admin/users?q=manager").get_data(as_text=True)
    assert "manager@city.test" in page and "crew.a@city.test" not in page
    page = client.get("/admin/users").get_data(as_text=True)
    assert all(u.email in page for u in city.users.values())
    auth = bearer(tokens["admin"])
    found = client.get("/api/v1/admin/users?q=crew", headers=auth).get_json()
    assert [u["email"] for u in found] == ["crew.a@city.test", "crew.b@city.test"]
    one = client.get(f"/api/v1/admin/users/{city.users['crew'].id}", headers=auth).get_json()
    assert (one["crew"], one["crew_id"], one["department"]) == (
        "Pothole crew A",
        city.crew_a.id,
        "PWD",
    )
    page = client.get(f"/admin/users/{city.users['crew'].id}").get_data(as_text=True)
    assert "crew.a@city.test" in page and "Reset password" in page


def test_saving_a_member_of_a_deactivated_crew_keeps_the_crew(client, city, tokens) -> None:
    crew = city.users["crew"]
    auth = bearer(tokens["admin"])
    client.patch(f"/api/v1/admin/crews/{city.crew_a.id}", json={"active": False}, headers=auth)
    sign_in(client, city.users["admin"])
    page = client.get(f"/admin/users/{crew.id}").get_data(as_text=True)
    assert f'<option value="{city.crew_a.id}" selected>' in page
    resp = client.post(
        f"/admin/users/{crew.id}",
        data={
            "action": "update",
            "name": "Casey Crew",
            "role": "crew",
            "department": "PWD",
            "crew": str(city.crew_a.id),
        },
    )
    assert resp.status_code == 303
    assert (_user("crew.a@city.test").name, _user("crew.a@city.test").crew_id) == (
        "Casey Crew",
        city.crew_a.id,
    )


def test_the_openapi_document_describes_the_users_and_tokens_api(client) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    for path in (
        "/api/v1/admin/users",
        "/api/v1/admin/users/{user_id}",
        "/api/v1/admin/users/{user_id}/password-reset",
        "/api/v1/admin/tokens",
        "/api/v1/admin/tokens/{token_id}",
    ):
        assert path in doc["paths"], path
    invite = doc["components"]["schemas"]["AdminUserIn"]
    assert set(invite["required"]) == {"email", "role"}
    assert "token_hash" not in doc["components"]["schemas"]["AdminTokenOut"]["properties"]
    assert "409" in doc["paths"]["/api/v1/admin/users"]["post"]["responses"]

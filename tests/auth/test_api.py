from datetime import UTC, datetime, timedelta

from app.auth import service
from tests.factories import PASSWORD
from tests.helpers import bearer


def issue(client, email, password=PASSWORD):
    return client.post("/api/v1/auth/tokens", json={"email": email, "password": password})


def test_token_is_issued_and_works(client, city):
    resp = issue(client, "dispatcher@city.test")
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["user"] == {
        "id": city.users["dispatcher"].id,
        "email": "dispatcher@city.test",
        "name": "",
        "role": "dispatcher",
        "department": "PWD",
        "crew": None,
    }
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)
    assert "password" not in resp.get_data(as_text=True)

    me = client.get("/api/v1/auth/me", headers=bearer(body["token"]))
    assert me.status_code == 200
    assert me.get_json()["email"] == "dispatcher@city.test"


def test_crew_member_sees_crew_and_department(client, city):
    body = issue(client, "crew.a@city.test").get_json()
    assert (body["user"]["crew"], body["user"]["department"]) == ("Pothole crew A", "PWD")


def test_wrong_credentials_get_401_json(client, city):
    for email, password in (("dispatcher@city.test", "wrong-password"), ("no@city.test", "x")):
        resp = issue(client, email, password)
        assert resp.status_code == 401
        assert "Email or password is wrong" in resp.get_json()["message"]
        assert "token" not in resp.get_json()


def test_deactivated_account_gets_no_token(client, city, db_session):
    city.users["agent"].active = False
    db_session.flush()
    assert issue(client, "agent@city.test").status_code == 401


def test_missing_fields_get_422_naming_them(client, city):
    resp = client.post("/api/v1/auth/tokens", json={"email": "dispatcher@city.test"})
    assert resp.status_code == 422
    assert "password" in resp.get_json()["errors"]["json"]
    resp = client.post("/api/v1/auth/tokens", data="email=x", content_type="text/plain")
    assert resp.status_code == 422
    assert set(resp.get_json()["errors"]["json"]) == {"email", "password"}


def test_revoking_the_current_token_stops_it_only(client, city):
    first = issue(client, "manager@city.test").get_json()["token"]
    second = issue(client, "manager@city.test").get_json()["token"]
    resp = client.delete("/api/v1/auth/tokens/current", headers=bearer(first))
    assert resp.status_code == 204
    assert resp.data == b""
    assert client.get("/api/v1/auth/me", headers=bearer(first)).status_code == 401
    assert client.get("/api/v1/auth/me", headers=bearer(second)).status_code == 200


def test_revoke_without_token_is_401(client, city):
    assert client.delete("/api/v1/auth/tokens/current").status_code == 401


def test_me_needs_a_valid_token(client, city):
    resp = client.get("/api/v1/auth/me")
    assert resp.status_code == 401
    assert "Bearer" in resp.get_json()["message"]
    assert client.get("/api/v1/auth/me", headers=bearer("made-up")).status_code == 401


def test_expired_token_is_refused(client, city, db_session):
    from app.auth.models import ApiToken

    token = service.issue_token(city.users["admin"])
    db_session.query(ApiToken).update({"expires_at": datetime.now(UTC) - timedelta(minutes=1)})
    db_session.flush()
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401

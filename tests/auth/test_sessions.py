"""Signing out ends the session on the server: a copy of the old cookie no longer signs in."""

from __future__ import annotations

from app.auth import service
from app.extensions import db
from tests.helpers import sign_in


def _session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_a_session_cookie_kept_from_before_sign_out_is_refused(client, city):
    sign_in(client, city.users["dispatcher"])
    assert client.get("/staff/requests").status_code == 200
    kept = _session_cookie(client)
    client.post("/logout")
    client.set_cookie("session", kept)  # the old cookie, replayed
    resp = client.get("/staff/requests")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_signing_in_again_works_after_sign_out(client, city):
    sign_in(client, city.users["dispatcher"])
    client.post("/logout")
    sign_in(client, city.users["dispatcher"])
    assert client.get("/staff/requests").status_code == 200


def test_a_new_password_ends_the_sessions(client, city):
    user = city.users["agent"]
    sign_in(client, user)
    service.set_password(user, "a brand new password")
    db.session.commit()
    resp = client.get("/staff/requests")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_a_forged_user_id_is_refused(client, app, city):
    sign_in(client, city.users["agent"])
    with client.session_transaction() as sess:
        sess["_user_id"] = str(city.users["admin"].id)  # no session version
    resp = client.get("/staff/requests")
    assert resp.status_code == 302

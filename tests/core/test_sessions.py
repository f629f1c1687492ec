"""Cookie sessions: a request without the cookie starts empty; one with it reads it back."""

from __future__ import annotations

from flask import request, session

from app.core.sessions import CookieSessions


def test_the_session_is_read_back_from_its_cookie_and_starts_empty_without_one(app):
    assert isinstance(app.session_interface, CookieSessions)
    with app.test_request_context("/"):
        empty = app.session_interface.open_session(app, request)
        assert empty is not None and dict(empty) == {} and not empty.modified

    client = app.test_client()
    with client.session_transaction() as stored:  # written by Flask's own save_session
        stored["city311_probe"] = "kept"
    with client:
        client.get("/healthz")
        assert session["city311_probe"] == "kept"
    client.delete_cookie(app.config["SESSION_COOKIE_NAME"])
    with client:
        client.get("/healthz")
        assert "city311_probe" not in session

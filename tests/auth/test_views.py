import pytest
from flask import url_for

from app.auth.views import safe_next
from tests.helpers import sign_in


def test_login_page_is_an_accessible_form(client):
    resp = client.get("/login")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert '<label for="email">' in html and '<label for="password">' in html
    assert 'name="csrf_token"' in html
    assert 'autocomplete="current-password"' in html


@pytest.mark.parametrize(
    "role, endpoint",
    [
        ("agent", "requests.agent_new"),
        ("dispatcher", "workorders.queue"),
        ("crew", "workorders.crew_home"),
        ("manager", "metrics.dashboard"),
        ("admin", "metrics.dashboard"),
    ],
)
def test_sign_in_lands_on_the_role_home_page(app, client, city, role, endpoint):
    resp = sign_in(client, city.users[role].email)
    assert resp.status_code == 302
    with app.test_request_context():
        assert resp.headers["Location"] == url_for(endpoint)


def test_manager_signs_in_sees_the_dashboard_and_signs_out(client, city):
    resp = sign_in(client, "MANAGER@city.test ")  # email is matched case-insensitively
    assert resp.headers["Location"] == "/metrics"
    page = client.get("/metrics")
    assert page.status_code == 200
    assert "Sign out (manager@city.test)" in page.get_data(as_text=True)

    out = client.post("/logout")
    assert out.status_code == 302 and out.headers["Location"] == "/login"
    assert "You are signed out." in client.get("/login").get_data(as_text=True)
    # the session is gone: the dashboard asks to sign in again
    again = client.get("/metrics")
    assert again.status_code == 302
    assert again.headers["Location"].startswith("/login?next=")


def test_wrong_password_says_so_with_401_and_keeps_the_email(client, city):
    resp = sign_in(client, "manager@city.test", "not the password", refused=True)
    assert resp.status_code == 401
    html = resp.get_data(as_text=True)
    assert "Email or password is wrong" in html
    assert 'value="manager@city.test"' in html
    assert 'aria-invalid="true"' in html
    assert client.get("/metrics").status_code == 302  # not signed in


def test_unknown_email_gets_the_same_answer(client, city):
    resp = sign_in(client, "nobody@city.test", "whatever-password", refused=True)
    assert resp.status_code == 401
    assert "Email or password is wrong" in resp.get_data(as_text=True)


def test_deactivated_account_cannot_sign_in(client, city, db_session):
    city.users["manager"].active = False
    db_session.flush()
    assert sign_in(client, "manager@city.test", refused=True).status_code == 401


def test_next_path_on_this_site_is_followed(client, city):
    resp = sign_in(client, "manager@city.test", next_url="/metrics?days=7")
    assert resp.headers["Location"] == "/metrics?days=7"


def test_login_redirect_round_trip_keeps_where_the_user_was_going(client, city):
    first = client.get("/metrics?days=7")
    assert first.status_code == 302
    form = client.get(first.headers["Location"]).get_data(as_text=True)
    assert 'name="next" value="/metrics?days=7"' in form
    resp = sign_in(client, "manager@city.test", next_url="/metrics?days=7")
    assert resp.headers["Location"] == "/metrics?days=7"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/ok\r\nLocation: https://evil.example",
    ],
)
def test_external_next_is_ignored(client, city, target):
    resp = sign_in(client, "manager@city.test", next_url=target)
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/metrics"


def test_safe_next_accepts_only_local_paths():
    assert safe_next("/requests/12?tab=history") == "/requests/12?tab=history"
    assert safe_next("") is None and safe_next(None) is None
    assert safe_next("metrics") is None


def test_signed_in_user_visiting_login_goes_home(client, city):
    sign_in(client, "manager@city.test")
    resp = client.get("/login")
    assert resp.status_code == 302 and resp.headers["Location"] == "/metrics"


def test_logout_needs_post(client, city):
    sign_in(client, "manager@city.test")
    assert client.get("/logout").status_code == 405
    assert client.get("/metrics").status_code == 200

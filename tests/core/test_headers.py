"""Every response carries the security headers; the CSP lets the pages' own files and tiles in."""

from __future__ import annotations

import re

from app import create_app
from app.core.headers import content_security_policy, tile_origin
from app.extensions import db
from tests.conftest import TEST_DB_URL
from tests.factories import submit
from tests.helpers import sign_in


def test_pages_carry_the_security_headers(client, city):
    resp = client.get("/")
    csp = resp.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "https://tile.openstreetmap.org" in csp  # the test city's MAP_TILE_URL
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    # not production: no HSTS, which would pin a developer's localhost to HTTPS
    assert "Strict-Transport-Security" not in resp.headers
    assert client.get("/api/v1/services").headers["X-Content-Type-Options"] == "nosniff"


def test_the_pages_have_no_inline_script(client, city):
    sr = submit()
    sign_in(client, city.users["agent"])
    for path in ("/", "/login", f"/staff/requests/{sr.id}", f"/requests/{sr.id}"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert " style=" not in html and "<style" not in html, path


def test_hsts_in_production():
    app = create_app(
        "production",
        {
            "SQLALCHEMY_DATABASE_URI": TEST_DB_URL,
            "SECRET_KEY": "x" * 32,
            "SMTP_HOST": "127.0.0.1",
            "PUBLIC_BASE_URL": "https://311.example.org",
        },
    )
    resp = app.test_client().get("/login")
    with app.app_context():
        db.engine.dispose()
    app.extensions["rq"].redis.close()
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")


def test_tile_subdomains_become_a_wildcard():
    assert tile_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png") == (
        "https://*.tile.example.org"
    )
    assert "img-src 'self' data: blob:;" in content_security_policy("") + ";"

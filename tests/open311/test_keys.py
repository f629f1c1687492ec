"""API keys: issued per client application, stored hashed, revocable, by command or admin page."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.open311 import keys
from app.open311.models import ApiKey
from tests.factories import WARD_1_POINT
from tests.helpers import sign_in
from tests.open311.conftest import BASE


def can_post(client, key) -> int:
    return client.post(
        f"{BASE}/requests.json",
        data={
            "api_key": key,
            "service_code": "pothole",
            "description": "Hole",
            "lat": str(WARD_1_POINT[0]),
            "long": str(WARD_1_POINT[1]),
        },
    ).status_code


def test_only_the_hash_of_a_key_is_stored(city):
    row, key = keys.create_key("Neighbourhood app", "ops@app.example")
    assert len(key) >= 32 and row.key_prefix == key[:8]
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    stored = db.session.execute(select(ApiKey.__table__)).mappings().all()
    assert all(key not in str(dict(r)) for r in stored)


def test_a_key_needs_an_application_name(city):
    from app.core.errors import DomainError

    with pytest.raises(DomainError, match="Name the client application"):
        keys.create_key("  ")


@pytest.fixture
def runner(app, db_session):
    return app.test_cli_runner()


def test_commands_create_list_and_revoke(runner, client, city):
    created = runner.invoke(
        args=["open311", "keys", "create", "--name", "FixMyStreet", "--contact", "fms@example.org"]
    )
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    assert can_post(client, key) == 200

    listed = runner.invoke(args=["open311", "keys", "list"])
    assert listed.exit_code == 0
    assert re.search(
        rf"{re.escape(key[:8])}\s+FixMyStreet\s+<fms@example.org>\s+active", listed.output
    )
    assert key not in listed.output

    revoked = runner.invoke(args=["open311", "keys", "revoke", "--prefix", key[:8]])
    assert revoked.exit_code == 0, revoked.output
    assert can_post(client, key) == 403
    assert "revoked" in runner.invoke(args=["open311", "keys", "list"]).output


def test_revoking_an_unknown_prefix_fails_clearly(runner, city):
    result = runner.invoke(args=["open311", "keys", "revoke", "--prefix", "nothing1"])
    assert result.exit_code != 0
    assert "No API key matches" in result.output


def test_admin_issues_a_key_once_and_revokes_it(client, city):
    sign_in(client, "admin@city.test")
    page = client.get("/admin/open311/keys")
    assert page.status_code == 200
    assert 'name="csrf_token"' in page.get_data(as_text=True)

    created = client.post("/admin/open311/keys", data={"name": "Civic app", "contact": "a@b.org"})
    html = created.get_data(as_text=True)
    assert created.status_code == 200
    key = re.search(r'id="new-key" type="text" readonly value="([^"]+)"', html).group(1)
    assert "it will not be shown again" in html
    assert can_post(client, key) == 200
    assert key not in client.get("/admin/open311/keys").get_data(as_text=True)

    row = db.session.scalar(select(ApiKey).where(ApiKey.key_prefix == key[:8]))
    revoked = client.post(f"/admin/open311/keys/{row.id}/revoke")
    assert revoked.status_code == 302
    assert can_post(client, key) == 403


def test_admin_form_errors_are_shown_on_the_field(client, city):
    sign_in(client, "admin@city.test")
    resp = client.post("/admin/open311/keys", data={"name": "", "contact": ""})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert 'aria-invalid="true"' in html and "Name the client application" in html


@pytest.mark.parametrize("email", ["manager@city.test", "dispatcher@city.test"])
def test_only_admins_manage_keys(client, city, email):
    sign_in(client, email)
    assert client.get("/admin/open311/keys").status_code == 403
    assert client.post("/admin/open311/keys", data={"name": "Sneaky"}).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client, city):
    resp = client.get("/admin/open311/keys")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]

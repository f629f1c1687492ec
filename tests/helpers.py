"""How the tests reach the app as its clients do: the sign-in form and bearer tokens."""

from __future__ import annotations

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.auth.models import User
from tests.factories import PASSWORD


def sign_in(
    client: FlaskClient,
    who: User | str,
    password: str = PASSWORD,
    *,
    next_url: str | None = None,
    refused: bool = False,
) -> TestResponse:
    """Sign `who` in through the real /login form; assert it worked (with `refused`: failed)."""
    email = who if isinstance(who, str) else who.email
    data = {"email": email, "password": password}
    if next_url is not None:
        data["next"] = next_url
    resp = client.post("/login", data=data)
    expected = 401 if refused else 302
    assert resp.status_code == expected, (
        f"signing in as {email!r} answered {resp.status_code}, not {expected}: "
        f"{resp.get_data(as_text=True)[:300]}"
    )
    return resp


def bearer(token: str) -> dict[str, str]:
    """Return the Authorization header that presents this API token."""
    return {"Authorization": f"Bearer {token}"}

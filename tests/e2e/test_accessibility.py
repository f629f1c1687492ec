"""axe-core on every public page and the call form, on a 360 px phone and on a desktop:
no serious or critical violation (contrast, labels, landmarks, names of the map's controls)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer

from tests.e2e import test_browser as browser_tests
from tests.e2e.conftest import LiveStack, token_for
from tests.e2e.test_browser import DESKTOP, PHONE, expect, shoot, sign_in
from tests.factories import WARD_1_POINT

browser = browser_tests.browser
open_context = browser_tests.open_context
shots = browser_tests.shots

from tests.e2e.axe import axe_violations, describe  # noqa: E402  (after playwright's check)

pytestmark = pytest.mark.e2e

SMALL_PHONE = {**PHONE, "viewport": {"width": 360, "height": 780}}
FOLLOWER = "axe.follower@example.org"


def _signed(stack: LiveStack, salt: str, payload: list[Any], *, timed: bool = False) -> str:
    """Return a token as the app signs its emailed links (the stack's SECRET_KEY)."""
    kind = URLSafeTimedSerializer if timed else URLSafeSerializer
    return kind(stack.env["SECRET_KEY"], salt=salt).dumps(payload)


@pytest.fixture(scope="module")
def public_pages(live_stack: LiveStack) -> dict[str, str]:
    """Return the public pages by name, with a request that has a public history to show."""
    with live_stack.client() as http:
        made = http.post(
            "/api/v1/requests",
            json={
                "service_code": "pothole",
                "description": "Deep pothole in the bike lane",
                "address": "12 Elm Street",
                "lat": WARD_1_POINT[0],
                "long": WARD_1_POINT[1],
                "email": "axe.reporter@example.org",
            },
        )
    assert made.status_code == 201, made.text
    request_id = made.json()["id"]
    with live_stack.client(token_for(live_stack, "dispatcher@city.test")) as http:
        noted = http.post(
            f"/api/v1/requests/{request_id}/notes",
            json={"note": "A crew will look at it this week.", "public": True},
        )
    assert noted.status_code in (200, 201), noted.text
    follow = _signed(live_stack, "city311-follow", [request_id, FOLLOWER, "en"], timed=True)
    unsubscribe = _signed(live_stack, "city311-unsubscribe", [request_id, FOLLOWER])
    return {
        "report form": "/",
        "tracking page": f"/requests/{request_id}",
        "map": "/map",
        "open data": "/open-data",
        "performance": "/performance",
        "follow confirmed": f"/follow/{follow}",
        "unsubscribe": f"/unsubscribe/{unsubscribe}",
        "survey": f"/survey/{_signed(live_stack, 'city311-survey', [request_id, 1])}",
        "sign in": "/login",
    }


@pytest.mark.parametrize("size", ["360px", "desktop"])
def test_no_serious_or_critical_violation_on_any_public_page_or_the_call_form(
    open_context, live_stack: LiveStack, public_pages: dict[str, str], shots: Path, size: str
):
    options = SMALL_PHONE if size == "360px" else DESKTOP
    found: dict[str, list[dict[str, Any]]] = {}
    page = open_context(**options).new_page()
    for name, path in public_pages.items():
        page.goto(path)
        page.wait_for_load_state("networkidle")
        found[f"{name} ({path.split('?')[0][:40]}, {size})"] = axe_violations(page)

    agent = open_context(**options).new_page()
    sign_in(agent, "agent@city.test")
    expect(agent.locator("#route-preview")).to_be_visible()  # call.js has arranged the form
    agent.wait_for_load_state("networkidle")
    found[f"call form ({size})"] = axe_violations(agent)
    shoot(agent, shots, f"axe-call-form-{size}")
    print(f"screenshots: {shots}")

    failing = {where: v for where, v in found.items() if v}
    assert not failing, "axe-core found serious or critical violations:\n" + describe(failing)

"""An agent logs calls by keyboard only: the type, the address from the search box, the
description, the caller's phone; sees where the request will go; finds the caller's earlier
request and adds them as its follower instead of logging it again; then logs the next call."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e import test_address_browser as address_tests
from tests.e2e import test_browser as browser_tests
from tests.e2e.conftest import LiveStack, token_for
from tests.e2e.test_browser import DESKTOP, expect, no_page_errors, shoot
from tests.factories import PASSWORD

browser = browser_tests.browser
open_context = browser_tests.open_context
shots = browser_tests.shots
gazetteer = address_tests.gazetteer

from playwright.sync_api import Page  # noqa: E402  (after test_browser's skip)

from tests.e2e.axe import axe_violations, describe  # noqa: E402

pytestmark = pytest.mark.e2e

ELM = address_tests.ELM
CALLER_PHONE = "617-555-0142"
CALLER_EMAIL = "carla.caller@example.org"


def focused(page: Page) -> str:
    """Return the id (or the text, for a button) of the element that has the focus."""
    return page.evaluate(
        "() => document.activeElement.id || document.activeElement.textContent.trim()"
    )


def tab_to(page: Page, name: str, limit: int = 25) -> None:
    """Press Tab until the element `focused` names has the focus."""
    for _ in range(limit):
        if focused(page) == name:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{name!r} was not reached in {limit} Tabs (at {focused(page)!r})")


def test_an_agent_logs_a_call_by_keyboard_and_follows_instead_of_a_duplicate(
    open_context, live_stack: LiveStack, gazetteer, shots: Path
):
    with live_stack.client() as http:  # the caller reported this pothole online last week
        earlier = http.post(
            "/api/v1/requests",
            json={
                "service_code": "pothole",
                "description": "Pothole outside number 12",
                "address": "12 Elm Street",
                "lat": ELM[0],
                "long": ELM[1],
                "phone": "(617) 555 0142",
            },
        )
    assert earlier.status_code == 201, earlier.text
    earlier_id = earlier.json()["id"]
    agent_token = token_for(live_stack, "agent@city.test")

    page = open_context(**DESKTOP).new_page()
    keys = page.keyboard
    suggested = page.get_by_role("listbox", name="Suggested places").get_by_role("option")
    with no_page_errors(page):
        page.goto("/login")
        page.get_by_label("Email", exact=True).focus()
        keys.type("agent@city.test")
        keys.press("Tab")
        keys.type(PASSWORD)
        keys.press("Enter")
        expect(page).to_have_url(re.compile(r"/agent/requests/new$"))
        expect(page.locator("#call-keys")).to_contain_text("Alt + N")

        # the category has the focus; typing its first letters chooses it
        expect(page.locator("#service_code")).to_be_focused()
        keys.type("Pot")
        expect(page.locator("#service_code")).to_have_value("pothole")
        keys.press("Tab")
        expect(page.locator("#address-q")).to_be_focused()
        keys.type("12 elm", delay=40)
        expect(suggested.first).to_contain_text("12 Elm Street")
        keys.press("ArrowDown")
        keys.press("Enter")
        # the address chosen, the description is next
        expect(page.locator("#description")).to_be_focused()
        expect(page.locator("#lat")).to_have_value(f"{ELM[0]:.6f}")
        keys.type("Pothole outside number 12, a car lost a hubcap")

        preview = page.locator("#route-preview")
        expect(preview.locator("#route-department")).to_have_text("Public Works")
        expect(preview.locator("#route-district")).to_have_text("Ward 1")
        expect(preview.locator("#route-due")).to_have_text(re.compile(r"\d{4} \d\d:\d\d E[SD]T$"))

        keys.press("Alt+KeyC")
        expect(page.locator("#phone")).to_be_focused()
        keys.type(CALLER_PHONE)
        mine = page.locator("#caller-earlier")
        expect(mine).to_contain_text(f"#{earlier_id} Pothole")
        expect(mine).to_contain_text("Pothole outside number 12")
        expect(page.locator("#caller-nearby")).to_contain_text(f"#{earlier_id} Pothole")
        shoot(page, shots, "call-lookup")

        keys.press("Shift+Tab")
        expect(page.locator("#email")).to_be_focused()
        keys.type(CALLER_EMAIL)
        tab_to(page, f"Add this caller as a follower of #{earlier_id}")
        keys.press("Enter")
        expect(page.locator("#caller-follow-status")).to_contain_text(
            f"{CALLER_EMAIL} now follows request {earlier_id}"
        )
        shoot(page, shots, "call-followed-instead")
        # the lists, buttons and messages call.js added are accessible too
        assert axe_violations(page) == [], describe(
            {"call form with a lookup": axe_violations(page)}
        )

        # the next call: Alt+N gives a blank form, the focus on the category
        keys.press("Alt+KeyN")
        expect(page.locator("#phone")).to_have_value("")
        expect(page.locator("#service_code")).to_be_focused()
        keys.type("Str")
        expect(page.locator("#service_code")).to_have_value("streetlight")
        keys.press("Alt+KeyS")
        expect(page.locator("#address-q")).to_be_focused()
        keys.type("7 main", delay=40)
        expect(suggested.first).to_contain_text("7 Main Street")
        keys.press("Enter")
        expect(page.locator("#description")).to_be_focused()
        keys.type("Streetlight dark since Monday")
        expect(page.locator("#route-district")).to_have_text("Ward 2")
        keys.press("Alt+KeyC")
        keys.type("617 555 0150")
        expect(page.locator("#caller-lookup-status")).to_contain_text("No earlier request")
        keys.press("Enter")  # sends the form from the phone field
        confirmation = page.locator(".flash-success")
        expect(confirmation).to_contain_text("logged (Streetlight out, Ward 2)")
        shoot(page, shots, "call-logged")
        new_id = int(confirmation.locator("strong").inner_text())
    print(f"screenshots: {shots}")

    with live_stack.client(agent_token) as http:
        followed = http.get(f"/api/v1/requests/{earlier_id}").json()
        logged = http.get(f"/api/v1/requests/{new_id}").json()
    note = [e for e in followed["events"] if e["kind"] == "note"]
    assert len(note) == 1 and note[0]["public"] is False
    assert CALLER_EMAIL in note[0]["note"]
    assert note[0]["actor"]["email"] == "agent@city.test"
    assert new_id == earlier_id + 1  # the follow logged nothing; the next call did
    assert logged["channel"] == "phone"
    assert logged["reporter"]["phone"] == "617 555 0150"

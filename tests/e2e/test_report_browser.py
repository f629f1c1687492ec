"""A resident on a 360 px phone: finds the category by typing, hears every error at once with
the photo kept, keeps the draft across a reload, cannot send twice, and sends from a tunnel.

Screenshots of each step go to the folder printed when the module starts.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.e2e import test_browser as browser_tests
from tests.e2e.conftest import LiveStack, token_for
from tests.e2e.test_browser import PHONE, expect, no_page_errors, shoot
from tests.factories import WARD_2_POINT, jpeg_bytes

# one Chromium per module, contexts that answer tile requests
browser = browser_tests.browser
open_context = browser_tests.open_context

pytestmark = pytest.mark.e2e

SMALL_PHONE = {**PHONE, "viewport": {"width": 360, "height": 780}}


@pytest.fixture(scope="module")
def shots(tmp_path_factory, request) -> Path:
    folder = tmp_path_factory.mktemp("report-screenshots")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\nresident form screenshots: {folder}")
    return folder


@pytest.fixture(scope="module")
def catalogue(live_stack: LiveStack) -> None:
    """The Boston demo's trap: the pothole type is named for the request and grouped away."""
    admin = token_for(live_stack, "admin@city.test")
    with live_stack.client(admin) as http:
        for body in (
            {
                "code": "pothole-repair",
                "name": "Request for Pothole Repair",
                "department": "PWD",
                "sla_value": 72,
                "group": "Highway Maintenance",
                "keywords": "hole, road surface",
            },
            {
                "code": "deep-hole",
                "name": "Deep hole",
                "department": "PWD",
                "sla_value": 24,
                "group": "Highway Maintenance",
                "attributes": [
                    {
                        "code": "depth",
                        "description": "How deep is it?",
                        "datatype": "string",
                        "required": True,
                        "order": 1,
                    }
                ],
            },
        ):
            resp = http.post("/api/v1/admin/service-types", json=body)
            assert resp.status_code == 201, resp.text
    # each worker rendered the form residents share when it warmed up, before these types
    # existed, and renders it anew within RESIDENT_FORM_CACHE_SECONDS: the tests start after
    time.sleep(float(live_stack.env["RESIDENT_FORM_CACHE_SECONDS"]))


@pytest.fixture(scope="module")
def requests_with(live_stack: LiveStack) -> Iterator:
    engine = create_engine(live_stack.env["DATABASE_URL"])

    def count(description: str) -> int:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text("SELECT count(*) FROM service_requests WHERE description = :d"),
                    {"d": description},
                ).scalar_one()
            )

    yield count
    engine.dispose()


def chosen(page, name: str):
    """The checked radio named `name`: a type reported lately is offered twice, once under
    "Most reported" and once in its group, and either may be the one checked."""
    return page.get_by_role("radio", name=name, checked=True)


def fill_report(page, description: str) -> None:
    page.get_by_label("Search the categories").fill("pothole")
    page.get_by_role("radio", name="Request for Pothole Repair").check()
    page.get_by_label("Description").fill(description)
    page.get_by_label("Latitude").fill(str(WARD_2_POINT[0]))
    page.get_by_label("Longitude").fill(str(WARD_2_POINT[1]))
    page.get_by_label("Longitude").dispatch_event("change")


def test_typing_pothole_finds_the_type_named_for_the_request(
    open_context, live_stack: LiveStack, catalogue, shots: Path
):
    page = open_context(**SMALL_PHONE).new_page()
    with no_page_errors(page):
        page.goto("/")
        expect(page.get_by_label("Category", exact=True)).to_be_hidden()  # the select
        search = page.get_by_label("Search the categories")
        search.press_sequentially("POTHÓLE", delay=30)  # case and accents do not matter
        choice = page.get_by_role("radio", name="Request for Pothole Repair")
        expect(choice).to_be_visible()
        expect(page.get_by_role("radio", name="Graffiti")).to_be_hidden()
        expect(page.locator("#category-count")).to_contain_text("categories match")
        shoot(page, shots, "1-picker-search")
        search.fill("road surf")  # a keyword, by the start of its words
        expect(choice).to_be_visible()
        expect(page.get_by_role("radio", name="Streetlight out")).to_be_hidden()
        search.press("Enter")  # the first match, by keyboard
        expect(choice).to_be_checked()
        expect(page.locator("#service_code")).to_have_value("pothole-repair")
        expect(page.get_by_label("Description")).to_be_visible()
        shoot(page, shots, "2-picker-chosen")


def test_every_error_at_once_and_the_photo_is_kept(
    open_context, live_stack: LiveStack, catalogue, shots: Path, tmp_path: Path, requests_with
):
    photo = tmp_path / "hole.jpg"
    photo.write_bytes(jpeg_bytes())
    page = open_context(**SMALL_PHONE).new_page()
    with no_page_errors(page):
        page.goto("/")
        page.get_by_label("Search the categories").fill("deep")
        page.get_by_role("radio", name="Deep hole").check()
        expect(page.get_by_label("How deep is it?")).to_be_visible()
        page.get_by_label("Add a photo of the problem").set_input_files(photo)
        expect(page.locator("#photo-kept img")).to_have_count(1)  # sent ahead, shown
        page.get_by_role("button", name="Send the report").click()

        summary = page.locator("#error-summary")
        expect(summary).to_contain_text("description is required")
        expect(summary).to_contain_text("How deep is it?")
        expect(summary).to_contain_text("Show us where")
        expect(page.locator("#photo-kept img")).to_have_count(1)
        expect(page.locator("#photo-error")).to_have_count(0)
        shoot(page, shots, "3-all-errors-photo-kept")

        page.get_by_label("How deep is it?").fill("a foot")
        page.get_by_label("Description").fill("Deep hole, photo kept from the first try")
        page.get_by_label("Latitude").fill(str(WARD_2_POINT[0]))
        page.get_by_label("Longitude").fill(str(WARD_2_POINT[1]))
        page.get_by_role("button", name="Send the report").click()
        expect(page).to_have_url(re.compile(r"/requests/\d+$"))
        expect(page.locator(".photos img")).to_have_count(1)
        shoot(page, shots, "4-sent-with-the-kept-photo")
    assert requests_with("Deep hole, photo kept from the first try") == 1


#: the page may not write itself over: what it shows after a send it builds as DOM
NO_DOCUMENT_WRITE = """
Document.prototype.write = Document.prototype.writeln = function () {
  throw new Error("document.write is not allowed on this page");
};
"""


def test_the_answers_to_a_send_are_shown_without_document_write(
    open_context, live_stack: LiveStack, catalogue, shots: Path, requests_with
):
    ctx = open_context(**SMALL_PHONE)
    ctx.add_init_script(NO_DOCUMENT_WRITE)
    page = ctx.new_page()
    with no_page_errors(page):
        page.goto("/")
        fill_report(page, "")
        page.get_by_role("button", name="Send the report").click()
        # the server's form with its errors, in place; the page's scripts work on it again
        expect(page.locator("#error-summary")).to_contain_text("description is required")
        expect(page.locator("#error-summary")).to_be_focused()
        expect(page.get_by_label("Category", exact=True)).to_be_hidden()  # the picker is back
        expect(chosen(page, "Request for Pothole Repair")).to_have_count(1)
        expect(page.get_by_label("Latitude")).to_have_value(str(WARD_2_POINT[0]))
        page.get_by_label("Description").fill("Shown without document.write")
        page.get_by_role("button", name="Send the report").click()
        # sent: the browser opens the tracking page, which says the number
        expect(page).to_have_url(re.compile(r"/requests/\d+$"))
        expect(page.get_by_role("status")).to_contain_text("your request number is")
        shoot(page, shots, "9-sent-without-document-write")
    assert requests_with("Shown without document.write") == 1


def test_the_draft_survives_a_reload_and_is_cleared_once_sent(
    open_context, live_stack: LiveStack, catalogue, shots: Path, requests_with
):
    page = open_context(**SMALL_PHONE).new_page()
    with no_page_errors(page):
        page.goto("/")
        fill_report(page, "Draft kept through a reload")
        page.get_by_label("Email", exact=True).fill("resident@example.org")
        page.reload()
        expect(page.get_by_label("Description")).to_have_value("Draft kept through a reload")
        expect(chosen(page, "Request for Pothole Repair")).to_have_count(1)
        expect(page.get_by_label("Latitude")).to_have_value(str(WARD_2_POINT[0]))
        expect(page.get_by_label("Email", exact=True)).to_have_value("resident@example.org")
        expect(page.locator("#send-status")).to_contain_text("restored")
        shoot(page, shots, "5-draft-restored")
        page.get_by_role("button", name="Send the report").click()
        expect(page).to_have_url(re.compile(r"/requests/\d+$"))
        page.goto("/")
        expect(page.get_by_label("Description")).to_have_value("")
    assert requests_with("Draft kept through a reload") == 1


def test_a_double_tap_sends_one_request(
    open_context, live_stack: LiveStack, catalogue, shots: Path, requests_with
):
    page = open_context(**SMALL_PHONE).new_page()
    with no_page_errors(page):
        page.goto("/")
        fill_report(page, "Sent with a double tap")
        page.get_by_role("button", name="Send the report").dblclick()
        expect(page).to_have_url(re.compile(r"/requests/\d+$"))
        expect(page.get_by_role("status")).to_contain_text("your request number is")
        shoot(page, shots, "6-double-tap-one-request")
    assert requests_with("Sent with a double tap") == 1


def test_offline_the_report_waits_and_goes_once_when_back_online(
    open_context, live_stack: LiveStack, catalogue, shots: Path, requests_with
):
    ctx = open_context(**SMALL_PHONE)
    page = ctx.new_page()
    with no_page_errors(page):
        page.goto("/")
        fill_report(page, "Sent from a tunnel")
        ctx.set_offline(True)
        page.get_by_role("button", name="Send the report").click()
        status = page.locator("#send-status")
        expect(status).to_contain_text("You are offline")
        expect(page.get_by_role("button", name="Try again now")).to_be_visible()
        shoot(page, shots, "7-offline-waiting")
        assert requests_with("Sent from a tunnel") == 0
        ctx.set_offline(False)  # the browser's "online" event sends it
        expect(page).to_have_url(re.compile(r"/requests/\d+$"))
        shoot(page, shots, "8-back-online-sent")
    assert requests_with("Sent from a tunnel") == 1

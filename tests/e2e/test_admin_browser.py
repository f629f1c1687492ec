"""An admin sets up a new service type with a question in Chromium; a resident then sees it."""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import Page
from shapely.geometry import box, mapping

from tests.e2e.conftest import LiveStack
from tests.e2e.test_browser import (  # noqa: F401  (browser and open_context are fixtures)
    DESKTOP,
    PHONE,
    browser,
    choose_category,
    expect,
    no_page_errors,
    open_context,
    sign_in,
)

pytestmark = pytest.mark.e2e


def open_form_showing(page: Page, text: str, stack: LiveStack) -> None:
    """Open the report form once it shows `text`.

    Each web process renders the form residents share anew every RESIDENT_FORM_CACHE_SECONDS,
    so a catalogue change reaches every resident within that time, and no later.
    """
    bound = time.monotonic() + float(stack.env["RESIDENT_FORM_CACHE_SECONDS"]) + 2
    page.goto("/")
    while text not in page.content():
        assert time.monotonic() < bound, f"the form did not show {text!r} within the setting"
        page.wait_for_timeout(250)
        page.goto("/")


def test_admin_adds_a_service_type_with_a_question_and_residents_see_it(
    open_context,  # noqa: F811
    live_stack: LiveStack,
) -> None:
    admin = open_context(**DESKTOP).new_page()
    with no_page_errors(admin):
        sign_in(admin, "admin@city.test")
        admin.get_by_role("link", name="Admin", exact=True).click()
        admin.get_by_role("link", name="Service types").click()
        admin.get_by_role("link", name="Add a service type").click()
        admin.locator("#code").fill("tree-down")
        admin.locator("#name").fill("Tree down")
        admin.locator("#group").fill("Parks")
        admin.locator("#department").select_option(label="Parks and Recreation")
        admin.locator("#sla_value").fill("0")
        admin.locator("#q-0-code").fill("blocking")
        admin.locator("#q-0-description").fill("Is it blocking the road?")
        admin.locator("#q-0-datatype").select_option("singlevaluelist")
        admin.get_by_role("button", name="Add service type").click()
        # refused: the form says why and keeps what was typed
        expect(admin.get_by_role("alert")).to_contain_text("whole number above 0")
        expect(admin.locator("#q-0-code")).to_have_value("blocking")
        admin.locator("#sla_value").fill("48")
        admin.get_by_role("button", name="Add service type").click()
        expect(admin.get_by_role("alert")).to_contain_text("a list question needs values")
        admin.locator("#q-0-values").fill("yes=Yes, fully\nno=No")
        admin.get_by_role("button", name="Add service type").click()
        expect(admin).to_have_url(re.compile(r"/admin/service-types/tree-down$"))
        expect(admin.get_by_text("Added Tree down (tree-down).")).to_be_visible()

        admin.goto("/admin/audit")
        expect(admin.get_by_role("cell", name="service_type Tree down")).to_be_visible()

    resident = open_context(**PHONE).new_page()
    with no_page_errors(resident):
        open_form_showing(resident, "Is it blocking the road?", live_stack)
        question = resident.get_by_label("Is it blocking the road?")
        expect(question).to_be_hidden()
        choose_category(resident, "Tree down")
        expect(question).to_be_visible()
        question.select_option(label="Yes, fully")

    # the live preview follows the edit: a new question appears in the resident form preview
    # and in the Open311 definition before anything is saved
    with no_page_errors(admin):
        admin.goto("/admin/service-types/tree-down")
        definition = admin.locator("#preview-definition")
        expect(definition).to_contain_text('"code": "blocking"')
        admin.locator("#q-1-code").fill("trunk")
        admin.locator("#q-1-description").fill("How thick is the trunk?")
        expect(admin.locator("#preview-form")).to_contain_text("How thick is the trunk?")
        expect(definition).to_contain_text('"code": "trunk"')
        # an emergency notice replaces the form, in the preview and then for residents
        admin.locator("#emergency_notice").fill("A tree on a power line: call 911.")
        expect(admin.locator("#preview-form")).to_contain_text("call 911")
        admin.get_by_role("button", name="Save").click()
        expect(admin.get_by_text("Saved Tree down (tree-down).")).to_be_visible()

    with no_page_errors(resident):
        open_form_showing(resident, "A tree on a power line: call 911.", live_stack)
        choose_category(resident, "Tree down")
        expect(resident.get_by_text("A tree on a power line: call 911.")).to_be_visible()
        expect(resident.get_by_label("Description", exact=False)).to_be_hidden()
        expect(resident.get_by_role("button", name="Send the report")).to_be_hidden()


def test_admin_previews_district_boundaries_on_a_map_and_replaces_them(
    open_context,  # noqa: F811
    live_stack: LiveStack,
) -> None:
    cells = [
        {
            "type": "Feature",
            "properties": {"HOOD": code, "NAME": name},
            "geometry": mapping(box(west, 42.30, west + 0.05, 42.35)),
        }
        for code, name, west in (("N1", "Northside", -71.10), ("N2", "Southside", -71.05))
    ]
    data = json.dumps({"type": "FeatureCollection", "features": cells}).encode()
    admin = open_context(**DESKTOP).new_page()
    with no_page_errors(admin):
        sign_in(admin, "admin@city.test")
        admin.goto("/admin")
        admin.get_by_role("link", name="Districts").click()
        admin.locator("#file").set_input_files(
            files=[{"name": "hoods.geojson", "mimeType": "application/geo+json", "buffer": data}]
        )
        admin.locator("#kind").fill("neighborhood")
        admin.locator("#code_property").fill("HOOD")
        admin.locator("#name_property").fill("NAME")
        admin.get_by_role("button", name="Preview").click()
        expect(admin.locator("#districts-map")).to_have_attribute("data-drawn", "2")
        expect(admin.locator("#district-changes")).to_contain_text("N1, N2")
        admin.get_by_role("button", name="Replace all neighborhood districts").click()
        expect(admin.get_by_text("Replaced the neighborhood districts: 2 added")).to_be_visible()
        expect(admin.get_by_role("cell", name="Southside")).to_be_visible()

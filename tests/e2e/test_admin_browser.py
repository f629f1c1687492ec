"""An admin sets up a new service type with a question in Chromium; a resident then sees it."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import LiveStack
from tests.e2e.test_browser import (  # noqa: F401  (browser and open_context are fixtures)
    DESKTOP,
    PHONE,
    browser,
    expect,
    no_page_errors,
    open_context,
    sign_in,
)

pytestmark = pytest.mark.e2e


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
        resident.goto("/")
        question = resident.get_by_label("Is it blocking the road?")
        expect(question).to_be_hidden()
        resident.get_by_label("Category", exact=True).select_option(label="Tree down")
        expect(question).to_be_visible()
        question.select_option(label="Yes, fully")

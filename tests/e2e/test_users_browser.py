"""An admin invites a colleague in Chromium; the invitee chooses a password from the emailed
link (delivered by the real worker over SMTP) and signs in; the link then no longer works."""

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
    sideways_overflow,
    sign_in,
)

pytestmark = pytest.mark.e2e

INVITEE = "robin.new@city.test"
CHOSEN = "robin's own passphrase"


def _emailed_link(mailbox, base_url: str) -> str:
    for _ in range(3):
        for msg in mailbox.wait_for(1, timeout=20):
            if msg["To"] == INVITEE:
                text = msg.get_body(preferencelist=("plain",)).get_content()
                match = re.search(re.escape(base_url) + r"/password/set/\S+", text)
                assert match, text
                return match.group(0)
    raise AssertionError("the invitation email did not arrive")


def test_an_invited_colleague_sets_a_password_from_the_email_and_signs_in(
    open_context,  # noqa: F811
    live_stack: LiveStack,
    mailbox,
) -> None:
    admin = open_context(**DESKTOP).new_page()
    with no_page_errors(admin):
        sign_in(admin, "admin@city.test")
        admin.get_by_role("link", name="Admin", exact=True).click()
        admin.get_by_role("link", name="Users", exact=True).first.click()
        expect(admin).to_have_url(re.compile(r"/admin/users$"))
        admin.get_by_label("Email", exact=True).fill(INVITEE)
        admin.get_by_label("Name", exact=True).fill("Robin New")
        admin.locator("#invite-role").select_option("crew")
        admin.get_by_role("button", name="Send invitation").click()
        # refused: a crew member needs a crew, and the form keeps what was typed
        expect(admin.get_by_role("alert")).to_contain_text("A crew member needs a crew")
        expect(admin.get_by_label("Email", exact=True)).to_have_value(INVITEE)
        admin.locator("#invite-crew").select_option(label="Pothole crew A (PWD)")
        admin.get_by_role("button", name="Send invitation").click()
        expect(admin.get_by_text(f"Invited {INVITEE}")).to_be_visible()
        expect(admin.get_by_text("no password chosen yet")).to_be_visible()
        assert sideways_overflow(admin) is None
        crew_page = f"/admin/crews/{live_stack.city['crew_a']}/members"
        for path in ("/admin/users", "/admin/tokens", crew_page):
            admin.goto(path)
            assert sideways_overflow(admin) is None, path
        expect(admin.get_by_role("cell", name=re.compile(INVITEE))).to_be_visible()

    link = _emailed_link(mailbox, live_stack.base_url)

    invitee = open_context(**PHONE).new_page()
    with no_page_errors(invitee):
        invitee.goto(link)
        expect(invitee.get_by_text(INVITEE)).to_be_visible()
        invitee.get_by_label("New password").fill(CHOSEN)
        invitee.get_by_label("The same password again").fill(CHOSEN)
        invitee.get_by_role("button", name="Set password").click()
        expect(invitee).to_have_url(re.compile(r"/login$"))
        expect(invitee.get_by_text("Your password is set")).to_be_visible()
        invitee.get_by_label("Email", exact=True).fill(INVITEE)
        invitee.get_by_label("Password").fill(CHOSEN)
        invitee.get_by_role("button", name="Sign in").click()
        expect(invitee).to_have_url(re.compile(r"/crew$"))

        invitee.goto(link)
        expect(invitee.get_by_text("This link is not valid any more")).to_be_visible()

    with no_page_errors(admin):
        admin.goto("/admin/audit?kind=sign_in")
        expect(admin.get_by_role("cell", name=f"sign_in {INVITEE}")).to_be_visible()

"""The staff menu shows each role the pages its permissions admit, and nothing else."""

from __future__ import annotations

import pytest

from tests.helpers import sign_in

ALL = {
    "Log a call",
    "Queue",
    "Find a request",
    "Triage",
    "My work",
    "Metrics",
    "Open311 keys",
    "Routing rules",
    "Holidays",
}


@pytest.mark.parametrize(
    "user, links",
    [
        ("agent", {"Log a call", "Find a request", "Triage"}),
        ("dispatcher", {"Queue", "Find a request"}),
        ("crew", {"My work"}),
        ("manager", {"Log a call", "Queue", "Find a request", "Triage", "Metrics"}),
        ("admin", ALL - {"My work"}),
    ],
)
def test_each_role_sees_its_pages(client, city, user, links):
    sign_in(client, city.users[user])
    page = client.get("/").get_data(as_text=True)
    menu = page[page.index('<nav aria-label="Main">') : page.index("</nav>")]
    assert {label for label in ALL if f">{label}</a>" in menu} == links
    for label in links:  # every link it shows opens for that role
        start = menu.index(f">{label}</a>")
        href = menu[
            menu.rindex('href="', 0, start) + 6 : menu.index(
                '"', menu.rindex('href="', 0, start) + 6
            )
        ]
        assert client.get(href).status_code == 200, href


def test_signed_out_residents_see_no_staff_menu(client, city):
    page = client.get("/").get_data(as_text=True)
    assert "Staff sign in" in page and "Find a request" not in page

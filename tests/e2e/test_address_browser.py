"""A resident on a 360 px phone finds the place by typing its address, on a map with no tiles,
and on a second report at the same spot is offered the open request to follow instead."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.e2e import test_browser as browser_tests
from tests.e2e.conftest import BIN, E2E_TILE_HOST, ROOT, LiveStack
from tests.e2e.test_browser import (
    PHONE,
    choose_category,
    expect,
    no_page_errors,
    shoot,
    sideways_overflow,
    wait_for_mail,
)

# the browser journeys' fixtures: one Chromium per module, contexts that answer tile requests
browser = browser_tests.browser
open_context = browser_tests.open_context
shots = browser_tests.shots

pytestmark = pytest.mark.e2e

SMALL_PHONE = {**PHONE, "viewport": {"width": 360, "height": 780}}
ELM = (42.3201, -71.0801)  # in the test city's Ward 1
FOLLOWER = "neighbour@example.org"


@pytest.fixture(scope="module")
def gazetteer(live_stack: LiveStack, tmp_path_factory) -> None:
    """Load a few addresses with the real command, as a city loads its master address list."""
    folder = tmp_path_factory.mktemp("gazetteer")
    addresses = folder / "addresses.csv"
    addresses.write_text(
        "address_id,address,lat,long\n"
        f"E-12,12 Elm Street,{ELM[0]},{ELM[1]}\n"
        "E-14,14 Elm Street,42.3203,-71.0801\n"
        "E-120,120 Elm Street,42.3230,-71.0801\n"
        "M-7,7 Main Street,42.3150,-71.0300\n"
    )
    crossings = folder / "intersections.csv"
    crossings.write_text("street_a,street_b,lat,long\nMain Street,Broad Street,42.316,-71.031\n")
    for command, path in (("load-addresses", addresses), ("load-intersections", crossings)):
        done = subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi", "geo", command, str(path)],
            cwd=ROOT,
            env=live_stack.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_typing_an_address_moves_the_pin_and_a_second_report_follows_instead(
    open_context, live_stack: LiveStack, gazetteer, shots: Path, mailbox
):
    ctx = open_context(**SMALL_PHONE)
    # the tile server cannot be reached: the district outlines still show the city
    ctx.route(f"{E2E_TILE_HOST}/**", lambda route: route.abort())
    page = ctx.new_page()
    with no_page_errors(page):
        page.goto("/")
        expect(page.locator("#map .leaflet-overlay-pane path")).to_have_count(2)  # two wards
        expect(page.locator("#map .district-label")).to_have_count(2)
        expect(page.locator("#locate-status")).to_contain_text("outlines show the city")
        choose_category(page, "Pothole")

        search = page.get_by_role("combobox", name="Search an address or intersection")
        search.press_sequentially("12 elm", delay=40)
        options = page.get_by_role("listbox", name="Suggested places").get_by_role("option")
        expect(options.first).to_contain_text("12 Elm Street")
        expect(search).to_have_attribute("aria-expanded", "true")
        search.press("ArrowDown")
        expect(options.first).to_have_attribute("aria-selected", "true")
        shoot(page, shots, "address-suggestions-360")
        search.press("Enter")

        expect(page.get_by_label("Latitude")).to_have_value(f"{ELM[0]:.6f}")
        expect(page.get_by_label("Longitude")).to_have_value(f"{ELM[1]:.6f}")
        expect(page.locator("#address")).to_have_value("12 Elm Street")
        expect(page.locator("#map .leaflet-marker-icon")).to_be_visible()
        expect(page.locator("#address-q-status")).to_contain_text("Pin placed at 12 Elm Street")
        expect(page.locator("#nearby")).to_be_hidden()  # nothing reported there yet
        assert sideways_overflow(page) is None

        page.get_by_label("Description").fill("Pothole outside number 12, deep enough for a tyre")
        page.get_by_label("Email", exact=True).fill("first@example.org")
        page.get_by_role("button", name="Send the report").click()
        expect(page).to_have_url(re.compile(r"/requests/\d+$"))
        first_id = int(page.url.rsplit("/", 1)[1])

    second = ctx.new_page()
    with no_page_errors(second):
        second.goto("/")
        choose_category(second, "Pothole")
        search = second.get_by_role("combobox", name="Search an address or intersection")
        search.press_sequentially("elm stret", delay=40)  # a typo still finds it
        suggested = second.get_by_role("listbox", name="Suggested places")
        expect(suggested.get_by_role("option").first).to_contain_text("12 Elm Street")
        search.press("ArrowDown")
        search.press("Enter")
        expect(second.get_by_label("Latitude")).to_have_value(f"{ELM[0]:.6f}")

        nearby = second.locator("#nearby")
        expect(nearby).to_be_visible()
        expect(nearby.get_by_role("link", name=f"#{first_id} Pothole")).to_be_visible()
        expect(nearby).to_contain_text("Pothole outside number 12")
        assert "first@example.org" not in nearby.inner_text()
        second.get_by_label("Your email, to follow a report").fill(FOLLOWER)
        nearby.get_by_role("button", name=f"Follow request {first_id} instead").click()
        expect(second.locator("#follow-status")).to_contain_text(
            f"confirm with the link we sent to follow request {first_id}"
        )
        assert sideways_overflow(second) is None
        shoot(second, shots, "follow-instead-360")
    print(f"screenshots: {shots}")

    confirm = wait_for_mail(mailbox, FOLLOWER, f"follow request {first_id}")
    link = re.search(r"(http://\S+/follow/\S+)", confirm.get_body(("plain",)).get_content())
    assert link, "the confirmation email has no link"
    done = ctx.new_page()
    done.goto(link.group(1))
    expect(done.get_by_role("status")).to_contain_text(f"You follow request {first_id}")


def test_the_public_map_clusters_recent_reports(open_context, live_stack, gazetteer):
    with live_stack.client() as http:
        made = http.post(
            "/api/v1/requests",
            json={"service_code": "pothole", "description": "Hole", "lat": ELM[0], "long": ELM[1]},
        )
        assert made.status_code == 201, made.text
    page = open_context(**SMALL_PHONE).new_page()
    with no_page_errors(page):
        page.goto("/")
        page.get_by_role("link", name="See what neighbours reported on the map").click()
        expect(page).to_have_url(re.compile(r"/map$"))
        expect(page.locator("#map-status-text")).to_contain_text("on the map")
        expect(page.locator("#public-map .leaflet-marker-icon").first).to_be_visible()
        page.get_by_label("Status").select_option("closed")
        expect(page.locator("#map-status-text")).to_contain_text("0 reports on the map")

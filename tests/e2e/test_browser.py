"""The 311 loop as people live it, in a real Chromium against gunicorn, an rq worker and SMTP.

Residents and crews use a phone-sized context, dispatchers and managers a desktop one. The
journeys follow one pothole from report to fix; each test that needs an earlier step's result
makes it through the HTTP API when run on its own, so any one of them can be run alone.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.e2e.conftest import BIN, E2E_TILE_HOST, ROOT, LiveStack, token_for
from tests.factories import PASSWORD, WARD_1_POINT, WARD_2_POINT, jpeg_bytes

pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip(
        "browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium)",
        allow_module_level=True,
    )

from playwright.sync_api import (  # noqa: E402
    Browser,
    BrowserContext,
    Page,
    expect,
    sync_playwright,
)

pytestmark = pytest.mark.e2e

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}}

RESIDENT = {"name": "Rae Resident", "email": "rae.resident@example.org", "phone": "555-0142"}
CALLER = {"name": "Carl Caller", "phone": "555-0199"}
FIX_NOTE = "Filled and rolled the pothole; the bike lane is smooth again."

expect.set_options(timeout=10_000)


def _blank_tile() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (256, 256), (232, 236, 240)).save(buf, "PNG")
    return buf.getvalue()


BLANK_TILE = _blank_tile()


# --- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def journey() -> dict[str, Any]:
    """What one journey leaves for the next: request ids, the work order id."""
    return {}


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def open_context(
    browser: Browser, live_stack: LiveStack
) -> Iterator[Callable[..., BrowserContext]]:
    """Open browser contexts on the live stack; they are closed after the test."""
    opened: list[BrowserContext] = []

    def open_(**options: Any) -> BrowserContext:
        ctx = browser.new_context(base_url=live_stack.base_url, **options)
        ctx.set_default_timeout(10_000)
        ctx.route(
            f"{E2E_TILE_HOST}/**",
            lambda route: route.fulfill(status=200, content_type="image/png", body=BLANK_TILE),
        )
        opened.append(ctx)
        return ctx

    yield open_
    for ctx in opened:
        ctx.close()


@contextmanager
def no_page_errors(page: Page) -> Iterator[None]:
    """Fail if a script on the page throws: the form must not break silently."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield
    assert not errors, f"JavaScript errors on {page.url}: {errors}"


def sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def choose_category(page: Page, name: str) -> None:
    """Choose a category as a resident does: type a word of it, then tap it in the list."""
    page.get_by_label("Search the categories").fill(name.split()[0])
    groups = page.locator("#category-picker [data-group]")
    groups.get_by_role("radio", name=name).first.check()


def shoot(page: Page, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


def sideways_overflow(page: Page, width: int = 360) -> str | None:
    """Say what makes the page scroll sideways on a phone `width` CSS pixels wide, if anything."""
    size = page.viewport_size or {"width": 390, "height": 844}
    page.set_viewport_size({"width": width, "height": size["height"]})
    try:
        found = page.evaluate(
            """(width) => {
                const doc = document.documentElement;
                const wide = [...document.querySelectorAll('body *')]
                    // Leaflet's panes sit far off inside a clipped map: not an overflow
                    .filter(el => el.getBoundingClientRect().right > width + 1
                                  && el.getClientRects().length
                                  && !el.closest('.leaflet-container'))
                    .slice(0, 5)
                    .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                               + (el.className && typeof el.className === 'string'
                                  ? '.' + el.className.trim().replace(/\\s+/g, '.') : ''));
                return {scroll: doc.scrollWidth, inner: window.innerWidth, wide};
            }""",
            width,
        )
    finally:
        page.set_viewport_size(size)
    # a mobile browser zooms out to show overflowing content, so innerWidth grows with it
    if found["scroll"] > min(found["inner"], width):
        return (
            f"scrolls sideways at {width} px (content {found['scroll']} px wide); "
            f"too wide: {found['wide']}"
        )
    return None


def small_controls(page: Page) -> list[list[Any]]:
    """Return the page's buttons and file pickers under 44 px tall, too small for a thumb."""
    return page.evaluate(
        """() => [...document.querySelectorAll(
                'main button, main .button, main input[type=file]')]
            .filter(el => el.getClientRects().length)
            .map(el => [el.textContent.trim() || el.id, el.getBoundingClientRect().height])
            .filter(([, h]) => h < 44)"""
    )


def pin_offset_from_map_centre(page: Page) -> dict[str, Any]:
    """Return how far the pin's point (its icon's bottom middle) is from the map's centre."""
    return page.evaluate(
        """() => {
            const pin = document.querySelector('#map .leaflet-marker-icon').getBoundingClientRect();
            const map = document.getElementById('map').getBoundingClientRect();
            const x = pin.left + pin.width / 2, y = pin.bottom;
            return {dx: x - (map.left + map.width / 2), dy: y - (map.top + map.height / 2),
                    inside: x > map.left && x < map.right && y > map.top && y < map.bottom};
        }"""
    )


def wait_for_mail(mailbox, to: str, subject_part: str, timeout: float = 30) -> Message:
    def find() -> Message | None:
        for msg in mailbox.messages:
            if to in (msg["To"] or "") and subject_part.lower() in (msg["Subject"] or "").lower():
                return msg
        return None

    with mailbox.arrived:
        mailbox.arrived.wait_for(lambda: find() is not None, timeout=timeout)
        found = find()
    assert found is not None, (
        f"no mail to {to} with {subject_part!r}; got {[m['Subject'] for m in mailbox.messages]}"
    )
    return found


def attachments(message: Message) -> list[Message]:
    return [p for p in message.walk() if p.get_content_disposition() == "attachment"]


def images_loaded(page: Page, selector: str) -> list[int]:
    """Scroll each matching image into view, wait for it to load, return natural widths."""
    widths = []
    for img in page.locator(selector).all():
        img.scroll_into_view_if_needed()
        widths.append(
            img.evaluate(
                "img => img.complete ? img.naturalWidth : new Promise(done => {"
                " img.onload = () => done(img.naturalWidth); img.onerror = () => done(0); })"
            )
        )
    return widths


def api_report(stack: LiveStack) -> int:
    """Report the resident's pothole through the API; return its id."""
    with stack.client() as http:
        resp = http.post(
            "/api/v1/requests",
            data={
                "service_code": "pothole",
                "description": "Deep pothole in the bike lane",
                "lat": str(WARD_2_POINT[0]),
                "long": str(WARD_2_POINT[1]),
                **RESIDENT,
            },
            files={"photo": ("pothole.jpg", jpeg_bytes(gps=True), "image/jpeg")},
        )
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def api_dispatch(stack: LiveStack, request_id: int) -> int:
    """Send crew A to a request through the API; return the work order id."""
    with stack.client(token_for(stack, "dispatcher@city.test")) as http:
        resp = http.post(
            "/api/v1/workorders",
            json={"request_ids": [request_id], "crew_id": stack.city["crew_a"]},
        )
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def ensure_resident_request(stack: LiveStack, journey: dict[str, Any]) -> int:
    """Return the resident's pothole request, reporting it through the API if need be."""
    if "request_id" not in journey:
        journey["request_id"] = api_report(stack)
    return journey["request_id"]


def ensure_work_order(stack: LiveStack, journey: dict[str, Any]) -> int:
    """Return the work order for the resident's request, dispatching it if need be."""
    request_id = ensure_resident_request(stack, journey)
    if "work_order_id" not in journey:
        journey["work_order_id"] = api_dispatch(stack, request_id)
    return journey["work_order_id"]


def ensure_closed(stack: LiveStack, journey: dict[str, Any]) -> None:
    """Make sure the resident's request is closed as fixed, completing the order if need be."""
    if journey.get("closed"):
        return
    work_order_id = ensure_work_order(stack, journey)
    with stack.client(token_for(stack, "crew.a@city.test")) as http:
        http.post(f"/api/v1/workorders/{work_order_id}/start")
        resp = http.post(
            f"/api/v1/workorders/{work_order_id}/complete",
            data={"note": FIX_NOTE},
            files={"photo": ("done.jpg", jpeg_bytes(gps=True), "image/jpeg")},
        )
    assert resp.status_code == 200, resp.text
    journey["closed"] = True


# --- journeys ----------------------------------------------------------------------------------


def test_resident_reports_a_pothole_from_a_phone(
    open_context, live_stack: LiveStack, journey, shots: Path, mailbox, tmp_path: Path
):
    photo = tmp_path / "pothole.jpg"
    photo.write_bytes(jpeg_bytes(gps=True))
    ctx = open_context(
        **PHONE,
        permissions=["geolocation"],
        geolocation={"latitude": WARD_2_POINT[0], "longitude": WARD_2_POINT[1], "accuracy": 8},
    )
    page = ctx.new_page()
    with no_page_errors(page):
        page.goto("/")
        expect(page.get_by_role("heading", name="Report a problem", level=1)).to_be_visible()

        # the category's own questions appear only once it is chosen
        size_question = page.get_by_label("How big is it?")
        expect(size_question).to_be_hidden()
        choose_category(page, "Pothole")
        expect(size_question).to_be_visible()
        size_question.select_option("large")

        # "Use my location" fills the coordinates and drops the pin where the phone is
        expect(page.locator("#map .leaflet-marker-icon")).to_have_count(0)
        page.get_by_role("button", name="Use my location").click()
        expect(page.get_by_label("Latitude")).to_have_value(f"{WARD_2_POINT[0]:.6f}")
        expect(page.get_by_label("Longitude")).to_have_value(f"{WARD_2_POINT[1]:.6f}")
        expect(page.locator("#locate-status")).to_contain_text("Location set")
        pin = page.locator("#map .leaflet-marker-icon")
        expect(pin).to_be_visible()
        assert pin_offset_from_map_centre(page)["inside"], "the pin is outside the map"

        page.get_by_label("Add a photo of the problem").set_input_files(photo)
        page.get_by_label("Name", exact=True).fill(RESIDENT["name"])
        page.get_by_label("Email", exact=True).fill(RESIDENT["email"])
        page.get_by_label("Phone", exact=True).fill(RESIDENT["phone"])

        # forgetting the description: the error sits by the field and nothing typed is lost
        page.get_by_role("button", name="Send the report").click()
        description = page.get_by_label("Description")
        expect(description).to_have_attribute("aria-invalid", "true")
        error = page.locator("#description-error")
        expect(error).to_contain_text("Describe the problem")
        assert "description-error" in (description.get_attribute("aria-describedby") or "")
        expect(page.get_by_role("alert")).to_contain_text("Describe the problem")
        expect(page.locator("#service_code")).to_have_value("pothole")
        expect(page.locator("#category-picker input[value=pothole]:checked")).to_have_count(1)
        expect(page.get_by_label("How big is it?")).to_have_value("large")
        expect(page.get_by_label("Latitude")).to_have_value(f"{WARD_2_POINT[0]:.6f}")
        expect(page.get_by_label("Longitude")).to_have_value(f"{WARD_2_POINT[1]:.6f}")
        expect(page.get_by_label("Email", exact=True)).to_have_value(RESIDENT["email"])
        expect(page.get_by_label("Name", exact=True)).to_have_value(RESIDENT["name"])
        # the photo went up when it was chosen: it is kept, shown, not asked for again
        expect(page.locator("#photo-kept img")).to_have_count(1)
        expect(page.locator("#photo-error")).to_have_count(0)
        expect(page.locator("#map .leaflet-marker-icon")).to_be_visible()
        shoot(page, shots, "resident-form-error")

        description.fill("Deep pothole in the bike lane, outside the bakery")
        page.get_by_role("button", name="Send the report").click()

        expect(page).to_have_url(re.compile(r"/requests/\d+$"))
        request_id = int(page.url.rsplit("/", 1)[1])
        journey["request_id"] = request_id
        expect(page.get_by_role("status")).to_contain_text(f"your request number is {request_id}")
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Request {request_id}: Pothole")
        expect(page.locator("#status-heading .badge")).to_have_text("Received")
        expect(page.get_by_text("Ward 2")).to_be_visible()
        expect(page.get_by_text("handled by Public Works")).to_be_visible()
        widths = images_loaded(page, ".photos img")
        assert len(widths) == 1 and all(w > 0 for w in widths), widths
        html = page.content()
        for private in RESIDENT.values():
            assert private not in html, f"{private!r} is on the public tracking page"
        shoot(page, shots, "resident-tracking")

    receipt = wait_for_mail(mailbox, RESIDENT["email"], str(request_id))
    assert f"/requests/{request_id}" in receipt.get_body(("plain",)).get_content()


def test_agent_logs_a_phoned_in_streetlight(
    open_context, live_stack: LiveStack, journey, shots: Path
):
    page = open_context(**DESKTOP).new_page()
    with no_page_errors(page):
        sign_in(page, "agent@city.test")
        expect(page).to_have_url(re.compile(r"/agent/requests/new$"))
        page.get_by_label("Category", exact=True).select_option(label="Streetlight out")
        page.get_by_label("Description").fill("Streetlight dark for three nights")
        page.get_by_label("Latitude").fill(str(WARD_1_POINT[0]))
        page.get_by_label("Longitude").fill(str(WARD_1_POINT[1]))
        page.get_by_label("Address or landmark").fill("Corner of Elm and 3rd")
        page.get_by_label("Name", exact=True).fill(CALLER["name"])
        page.get_by_label("Phone", exact=True).fill(CALLER["phone"])
        page.get_by_role("button", name="Log the request").click()

        confirmation = page.locator(".flash-success")
        expect(confirmation).to_contain_text("logged (Streetlight out, Ward 1)")
        request_id = int(confirmation.locator("strong").inner_text())
        # the form is blank again for the next call
        expect(page.get_by_label("Name", exact=True)).to_have_value("")
        shoot(page, shots, "agent-confirmation")
    journey["phone_request_id"] = request_id

    with live_stack.client(token_for(live_stack, "agent@city.test")) as http:
        staff = http.get(f"/api/v1/requests/{request_id}")
    assert staff.status_code == 200, staff.text
    body = staff.json()
    assert body["channel"] == "phone"
    assert body["service"]["code"] == "streetlight"
    assert body["reporter"]["name"] == CALLER["name"]
    assert body["reporter"]["phone"] == CALLER["phone"]
    assert body["created_by_id"] == live_stack.city["user_agent"]


def test_dispatcher_sends_crew_a(open_context, live_stack: LiveStack, journey, shots: Path):
    request_id = ensure_resident_request(live_stack, journey)
    page = open_context(**DESKTOP).new_page()
    with no_page_errors(page):
        sign_in(page, "dispatcher@city.test")
        expect(page).to_have_url(re.compile(r"/dispatch$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Dispatch: Public Works")

        rows = page.locator("form tbody tr")
        row = rows.filter(has_text=f"#{request_id} Pothole")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("Ward 2")
        # most overdue first: due times never go backwards down the queue
        due = [t.get_attribute("datetime") for t in page.locator("form tbody time").all()]
        assert due == sorted(due), f"queue is not in due order: {due}"
        if "phone_request_id" in journey:
            order = [r.inner_text() for r in rows.locator("strong").all()]
            assert order.index(f"#{request_id} Pothole") < order.index(
                f"#{journey['phone_request_id']} Streetlight out"
            ), "the pothole (72 h SLA) is due before the streetlight (5 business days)"

        page.get_by_label(f"Add request {request_id}").check()
        page.get_by_label("Crew", exact=True).select_option(label="Pothole crew A")
        page.get_by_label("Instructions").fill("Bring cold patch")
        page.get_by_role("button", name="Create work order").click()

        confirmation = page.locator(".flash-success")
        expect(confirmation).to_contain_text("sent to Pothole crew A with 1 request")
        work_order_id = int(re.search(r"#(\d+)", confirmation.inner_text()).group(1))
        expect(row).to_contain_text(f"On #{work_order_id}")
        expect(page.locator(f"#wo-{work_order_id}")).to_contain_text("Pothole crew A")
        shoot(page, shots, "dispatch-after-create")
    journey["work_order_id"] = work_order_id


def api_report_streetlights(stack: LiveStack, count: int) -> list[int]:
    """Report `count` dark streetlights a few metres apart in Ward 2; return their ids."""
    ids = []
    with stack.client() as http:
        for i in range(count):
            resp = http.post(
                "/api/v1/requests",
                json={
                    "service_code": "streetlight",
                    "description": f"Streetlight {i + 1} of the row is dark",
                    "lat": WARD_2_POINT[0] + 0.0001 * i,
                    "long": WARD_2_POINT[1],
                    "address": f"{10 + 2 * i} Harbor St",
                },
            )
            assert resp.status_code == 201, resp.text
            ids.append(resp.json()["id"])
    return ids


def filter_streetlights_in_ward_2(page: Page) -> None:
    page.get_by_label("Type").select_option(label="Streetlight out")
    page.get_by_label("District").select_option(label="Ward 2")
    page.get_by_role("button", name="Filter", exact=True).click()
    expect(page).to_have_url(re.compile(r"service_code=streetlight"))


def test_dispatcher_filters_the_map_and_assigns_one_order_each(
    open_context, live_stack: LiveStack, shots: Path
):
    lights = api_report_streetlights(live_stack, 3)
    page = open_context(**DESKTOP).new_page()
    with no_page_errors(page):
        sign_in(page, "dispatcher@city.test")
        filter_streetlights_in_ward_2(page)
        rows = page.locator("form tbody tr")
        expect(rows).to_have_count(3)
        for request_id in lights:
            expect(rows.filter(has_text=f"#{request_id} Streetlight out")).to_have_count(1)

        # the three lights stand a few metres apart: one group on the map, until zoomed in
        expect(page.get_by_role("heading", name="On the map")).to_be_visible()
        cluster = page.locator("#queue-map .marker-cluster")
        expect(cluster).to_have_count(1)
        expect(cluster).to_have_text("3")
        expect(page.locator("#queue-map .queue-pin")).to_have_count(0)
        map_box = page.locator("#queue-map").bounding_box()
        list_box = page.locator(".dispatch-list").bounding_box()
        assert map_box and list_box and map_box["x"] > list_box["x"] + list_box["width"] - 1, (
            "on a desktop the map stands beside the list"
        )
        shoot(page, shots, "dispatch-filtered-desktop")
        cluster.click()
        pins = page.locator("#queue-map .queue-pin")
        expect(pins).to_have_count(3)
        pins.first.click()
        popup = page.locator("#queue-map .leaflet-popup")
        expect(popup).to_contain_text("Streetlight out")
        expect(popup).to_contain_text("Harbor St")
        expect(popup).to_have_css("opacity", "1")  # faded in
        expect(popup.get_by_role("link", name=re.compile(r"#\d+"))).to_have_attribute(
            "href", re.compile(r"/staff/requests/\d+$")
        )
        shoot(page, shots, "dispatch-map-popup-desktop")

        first, second = lights[0], lights[1]
        page.get_by_label(f"Add request {first}").check()
        page.get_by_label(f"Add request {second}").check()
        expect(page.locator("#picked-count")).to_have_text("(2 ticked)")
        page.get_by_label("One work order each").check()
        page.get_by_label("Crew", exact=True).select_option(label="Pothole crew B")
        page.get_by_label("Priority").select_option("high")
        page.get_by_label("Planned day").fill("2030-05-06")
        page.get_by_role("button", name="Create work order").click()

        confirmation = page.locator(".flash-success")
        expect(confirmation).to_contain_text("2 work orders")
        expect(confirmation).to_contain_text("sent to Pothole crew B, one per request")
        order_ids = [int(n) for n in re.findall(r"#(\d+)", confirmation.inner_text())]
        assert len(order_ids) == 2
        # back on the same filtered view, the two are on their orders and the third is free
        expect(page).to_have_url(re.compile(r"service_code=streetlight"))
        for request_id, order_id in zip((first, second), order_ids, strict=True):
            expect(rows.filter(has_text=f"#{request_id} Streetlight out")).to_contain_text(
                f"On #{order_id}"
            )
        expect(page.get_by_label(f"Add request {lights[2]}")).to_be_visible()
        shoot(page, shots, "dispatch-after-one-each-desktop")

    with live_stack.client(token_for(live_stack, "dispatcher@city.test")) as http:
        orders = [http.get(f"/api/v1/workorders/{i}").json() for i in order_ids]
    assert sorted(o["request_ids"] for o in orders) == [[first], [second]]
    assert {(o["crew"]["name"], o["priority"], o["scheduled_for"]) for o in orders} == {
        ("Pothole crew B", "high", "2030-05-06")
    }


def test_dispatcher_filters_the_queue_on_a_360px_phone(
    open_context, live_stack: LiveStack, shots: Path
):
    api_report_streetlights(live_stack, 2)
    page = open_context(**{**PHONE, "viewport": {"width": 360, "height": 780}}).new_page()
    with no_page_errors(page):
        sign_in(page, "dispatcher@city.test")
        filter_streetlights_in_ward_2(page)
        expect(page.locator("#queue-map .marker-cluster").first).to_be_visible()
        map_box = page.locator("#queue-map").bounding_box()
        list_box = page.locator(".dispatch-list").bounding_box()
        assert map_box and list_box and map_box["y"] + map_box["height"] <= list_box["y"] + 1, (
            "on a phone the map stands above the list"
        )
        shoot(page, shots, "dispatch-filtered-phone-360")
        problems = [sideways_overflow(page)]
        if small := small_controls(page):
            problems.append(f"controls under 44 px tall [label, px]: {small}")
    problems = [p for p in problems if p]
    assert not problems, "the dispatch page on a 360 px phone: " + "; ".join(problems)


def test_crew_closes_the_order_with_a_photo_on_a_phone(
    open_context, live_stack: LiveStack, journey, shots: Path, mailbox, tmp_path: Path
):
    request_id = ensure_resident_request(live_stack, journey)
    work_order_id = ensure_work_order(live_stack, journey)
    done_photo = tmp_path / "done.jpg"
    done_photo.write_bytes(jpeg_bytes((1200, 900), "gray", gps=True))

    page = open_context(**PHONE).new_page()
    with no_page_errors(page):
        sign_in(page, "crew.a@city.test")
        expect(page).to_have_url(re.compile(r"/crew$"))
        todo = page.locator("section[aria-labelledby=open-heading]")
        order = todo.locator("article").filter(
            has=page.get_by_role("heading", name=f"Work order #{work_order_id}")
        )
        expect(order).to_contain_text(f"#{request_id} Pothole")
        expect(order.locator(".badge").first).to_have_text("assigned")
        shoot(page, shots, "crew-home")

        order.get_by_role("button", name=f"Start #{work_order_id}").click()
        expect(page.get_by_role("status")).to_contain_text(f"Work order #{work_order_id} started")
        expect(order.locator(".badge").first).to_have_text("in progress")

        order.get_by_role("link", name=f"Complete #{work_order_id}").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            f"Complete work order #{work_order_id}"
        )
        page.get_by_label("Photo of the finished work").set_input_files(done_photo)
        page.get_by_label("Note").fill(FIX_NOTE)
        shoot(page, shots, "crew-complete")
        page.get_by_role("button", name="Mark as done").click()

        expect(page).to_have_url(re.compile(r"/crew$"))
        expect(page.get_by_role("status")).to_contain_text(f"Work order #{work_order_id} completed")
        expect(todo.get_by_role("heading", name=f"Work order #{work_order_id}")).to_have_count(0)
        expect(page.locator("section[aria-labelledby=done-heading]")).to_contain_text(
            f"#{work_order_id}"
        )
        journey["closed"] = True

        # the resident's page now tells the story's end, with the crew's photo
        page.goto(f"/requests/{request_id}")
        expect(page.locator("#status-heading .badge")).to_have_text("Closed")
        status = page.locator("section[aria-labelledby=status-heading]")
        expect(status).to_contain_text("Fixed")
        expect(page.get_by_text(FIX_NOTE).first).to_be_visible()
        photos = page.locator(".photos img")
        expect(photos.last).to_have_attribute("src", re.compile(r"/photos/\d+/thumb\.jpg$"))
        widths = images_loaded(page, ".photos img")
        # the resident's own photo, then the crew's
        assert len(widths) == 2 and all(w > 0 for w in widths), widths
        html = page.content()
        for private in RESIDENT.values():
            assert private not in html
        shoot(page, shots, "resident-tracking-closed")

    done = wait_for_mail(mailbox, RESIDENT["email"], "fixed")
    assert FIX_NOTE in done.get_body(("plain",)).get_content()
    photos_sent = attachments(done)
    assert len(photos_sent) == 1 and photos_sent[0].get_content_type() == "image/jpeg"
    sent = Image.open(io.BytesIO(photos_sent[0].get_payload(decode=True)))
    assert sent.format == "JPEG" and not sent.getexif()


def test_manager_sees_the_closed_request_in_the_metrics(
    open_context, live_stack: LiveStack, journey, shots: Path
):
    ensure_closed(live_stack, journey)
    # what the worker's rollup job does each minute, done now
    subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "metrics", "refresh"],
        cwd=ROOT,
        env=live_stack.env,
        check=True,
        capture_output=True,
    )
    page = open_context(**DESKTOP).new_page()
    with no_page_errors(page):
        sign_in(page, "manager@city.test")
        expect(page).to_have_url(re.compile(r"/metrics$"))
        expect(page.get_by_role("heading", name="Performance dashboard", level=1)).to_be_visible()
        departments = page.locator("section[aria-labelledby=t-department] tbody tr")
        public_works = departments.filter(has=page.get_by_role("rowheader", name="Public Works"))
        expect(public_works).to_have_count(1)
        closed_cell = public_works.locator("td").nth(1).inner_text()
        closed = int(re.match(r"\s*(\d+)", closed_cell).group(1))
        assert closed >= 1, f"Public Works closed: {closed_cell!r}"
        tile = page.locator(".kpi > div").filter(has_text="Closed").first
        assert int(tile.locator("strong").inner_text()) >= 1
        shoot(page, shots, "manager-metrics")


def report_at(stack: LiveStack, point: tuple[float, float], email: str, description: str) -> int:
    """Report a pothole at `point` through the API; return its id."""
    with stack.client() as http:
        resp = http.post(
            "/api/v1/requests",
            json={
                "service_code": "pothole",
                "description": description,
                "lat": point[0],
                "long": point[1],
                "address": "40 Elm Street",
                "email": email,
            },
        )
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def test_agent_sees_a_likely_duplicate_and_merges_it(
    open_context, live_stack: LiveStack, shots: Path, mailbox
):
    # two residents report one pothole in Ward 1, about 20 m apart
    original = report_at(live_stack, WARD_1_POINT, "olive@example.org", "Pothole by the school")
    near = (WARD_1_POINT[0] + 0.00018, WARD_1_POINT[1])
    dup = report_at(live_stack, near, "dan@example.org", "Big hole near the school gate")

    # at a service counter, on a phone 360 px wide: the duplicate and its merges fit
    phone = open_context(**{**PHONE, "viewport": {"width": 360, "height": 780}}).new_page()
    with no_page_errors(phone):
        sign_in(phone, "agent@city.test")
        phone.goto(f"/staff/requests/{dup}")
        candidate = phone.locator(f"#candidate-{original}")
        candidate.scroll_into_view_if_needed()
        expect(candidate).to_contain_text("m away")
        shoot(phone, shots, "staff-duplicates-360px")
        problems = [sideways_overflow(phone)]
        if small := small_controls(phone):
            problems.append(f"controls under 44 px tall [label, px]: {small}")
        problems = [p for p in problems if p]
        assert not problems, "; ".join(problems)

    page = open_context(**DESKTOP).new_page()
    with no_page_errors(page):
        sign_in(page, "agent@city.test")
        page.goto(f"/staff/requests/{dup}")
        section = page.locator("#duplicates")
        expect(section.get_by_role("heading")).to_contain_text("Likely duplicates (1)")
        candidate = section.locator(f"#candidate-{original}")
        expect(candidate).to_contain_text(f"#{original} Pothole")
        expect(candidate).to_contain_text("Pothole by the school")
        metres = int(re.search(r"(\d+) m away", candidate.inner_text()).group(1))
        assert 15 <= metres <= 25, metres
        shoot(page, shots, "staff-duplicates-desktop")

        candidate.get_by_role("button", name=f"Merge request {dup} into request {original}").click()

        # a real form post with its CSRF token, then the original's page
        expect(page).to_have_url(re.compile(rf"/staff/requests/{original}$"))
        expect(page.locator(".flash-success")).to_contain_text(
            f"Request {dup} merged into request {original}. 1 more person will be told"
        )
        expect(page.locator("#merged-children")).to_have_text(f"Request {dup}")
        expect(page.locator("#subscribers")).to_contain_text("The reporter and 1 subscriber")
        expect(page.locator("#history")).to_contain_text(
            f"Request {dup} reported the same problem and was merged into this one."
        )
        shoot(page, shots, "staff-after-merge-desktop")

        page.locator("#merged-children").get_by_role("link").click()
        expect(page.locator("#status-heading .badge")).to_have_text("Closed")
        expect(page.locator("section[aria-labelledby=status-heading]")).to_contain_text(
            "Duplicate of another report"
        )

    # the duplicate's reporter hears of the merge, and of nothing being fixed yet
    told = wait_for_mail(mailbox, "dan@example.org", f"merged into request {original}")
    assert f"/requests/{original}" in told.get_body(("plain",)).get_content()
    assert not [m for m in mailbox.messages if "fixed" in (m["Subject"] or "")]


def test_use_my_location_brings_the_map_to_the_pin(open_context, shots: Path):
    """A resident who taps while the map is still settling sees it centred on the pin.

    Phones answer at once from a cached position, so the tap can land during the map's opening
    zoom animation; the page's timers are held so that moment is the same on every run.
    """
    ctx = open_context(
        **PHONE,
        permissions=["geolocation"],
        geolocation={"latitude": WARD_2_POINT[0], "longitude": WARD_2_POINT[1], "accuracy": 8},
    )
    page = ctx.new_page()
    with no_page_errors(page):
        page.clock.install()
        page.clock.pause_at(1_800_000_000_000)
        page.goto("/")
        page.clock.run_for(20)  # one animation frame: any opening animation is now under way
        page.get_by_role("button", name="Use my location").click()
        expect(page.locator("#locate-status")).to_contain_text("Location set")
        page.clock.run_for(1_000)  # well past Leaflet's 250 ms zoom animation
        offset = pin_offset_from_map_centre(page)
        if abs(offset["dx"]) >= 3 or abs(offset["dy"]) >= 3:
            shoot(page, shots, "use-my-location-off-centre")
            pytest.fail(f"the map did not move to the located pin; it is off centre by {offset}")


# --- phone layout ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def open_order(live_stack: LiveStack) -> tuple[int, int]:
    """A request of its own and crew A's open work order for it, for the layout checks."""
    request_id = api_report(live_stack)
    return request_id, api_dispatch(live_stack, request_id)


PHONE_PAGES = {
    "report-form": (None, lambda ids: "/"),
    "report-form-with-errors": (None, lambda ids: "/"),
    "tracking": (None, lambda ids: f"/requests/{ids[0]}"),
    "login": (None, lambda ids: "/login"),
    "crew-home": ("crew.a@city.test", lambda ids: "/crew"),
    "crew-complete": ("crew.a@city.test", lambda ids: f"/crew/workorders/{ids[1]}/complete"),
    # an agent on a tablet or phone at a service counter
    "staff-search": ("agent@city.test", lambda ids: "/staff/requests?q=pothole"),
    "staff-request": ("dispatcher@city.test", lambda ids: f"/staff/requests/{ids[0]}"),
    # a dispatcher out in the district checks the queue and its open orders
    "dispatch": ("dispatcher@city.test", lambda ids: "/dispatch"),
}


@pytest.mark.parametrize("name", PHONE_PAGES)
def test_phone_page_fits_360px_with_thumb_sized_controls(
    name: str, open_context, open_order, shots: Path
):
    user, path = PHONE_PAGES[name]
    page = open_context(**PHONE).new_page()
    with no_page_errors(page):
        if user:
            sign_in(page, user)
        page.goto(path(open_order))
        if name == "report-form-with-errors":
            page.get_by_role("button", name="Send the report").click()
            expect(page.get_by_role("alert")).to_be_visible()
        shoot(page, shots, f"phone-{name}")
        problems = [sideways_overflow(page)]
        if small := small_controls(page):
            problems.append(f"controls under 44 px tall [label, px]: {small}")
    problems = [p for p in problems if p]
    assert not problems, f"{name} ({page.url}) on a phone: " + "; ".join(problems)

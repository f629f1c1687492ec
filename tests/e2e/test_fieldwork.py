"""The crew in the field against gunicorn, a real rq worker and SMTP: retries, position, holds."""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import LiveStack, token_for
from tests.factories import PASSWORD, jpeg_bytes

pytestmark = pytest.mark.e2e

CREW_AT = (42.32, -71.09)
#: ~823 m east, ~945 m north and ~1668 m south of the crew
EAST, NORTH, SOUTH = (42.32, -71.08), (42.3285, -71.09), (42.305, -71.09)


def report(stack: LiveStack, point: tuple[float, float], email: str) -> int:
    with stack.client() as http:
        resp = http.post(
            "/api/v1/requests",
            data={
                "service_code": "pothole",
                "description": "Pothole",
                "lat": str(point[0]),
                "long": str(point[1]),
                "email": email,
            },
        )
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def dispatch(stack: LiveStack, request_id: int) -> int:
    with stack.client(token_for(stack, "dispatcher@city.test")) as http:
        resp = http.post(
            "/api/v1/workorders",
            json={"request_ids": [request_id], "crew_id": stack.city["crew_a"]},
        )
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def fixed_mails(mailbox, to: str) -> list[Any]:
    return [m for m in mailbox.messages if m["To"] == to and "is fixed" in m["Subject"]]


def test_a_phone_sending_one_close_out_twice_at_once_closes_once(live_stack, mailbox):
    resident = "retry.resident@example.org"
    wo_id = dispatch(live_stack, report(live_stack, EAST, resident))
    crew = token_for(live_stack, "crew.a@city.test")
    go = threading.Barrier(2)
    answers: list[tuple[int, bytes]] = []

    def send() -> None:
        with live_stack.client(crew) as http:
            go.wait()
            resp = http.post(
                f"/api/v1/workorders/{wo_id}/complete",
                data={"note": "Filled.", "labour_hours": "1.5"},
                files={"photo": ("done.jpg", jpeg_bytes(), "image/jpeg")},
                headers={"Idempotency-Key": f"complete-{wo_id}-try"},
            )
        answers.append((resp.status_code, resp.content))

    phones = [threading.Thread(target=send) for _ in range(2)]
    for phone in phones:
        phone.start()
    for phone in phones:
        phone.join(timeout=30)
    assert len(answers) == 2 and answers[0] == answers[1], answers
    assert answers[0][0] == 200

    with live_stack.client(crew) as http:
        other_key = http.post(
            f"/api/v1/workorders/{wo_id}/complete",
            data={"note": "Again"},
            files={"photo": ("done.jpg", jpeg_bytes(), "image/jpeg")},
            headers={"Idempotency-Key": f"complete-{wo_id}-other"},
        )
    assert other_key.status_code == 409, other_key.text

    deadline = time.monotonic() + 30
    while not fixed_mails(mailbox, resident) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # the worker sweeps every 2 s: a second notice would be here by now
    (mail,) = fixed_mails(mailbox, resident)
    assert [p.get_content_type() for p in mail.iter_attachments()] == ["image/jpeg"]


# --- the phone page in a real browser ----------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    pytest.importorskip("playwright.sync_api", reason="browser tests need playwright")
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("browser tests need Debian's Chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-gpu"]
        )
        yield browser
        browser.close()


def test_the_crew_page_sorts_from_the_phones_position_and_holds_a_request(
    live_stack: LiveStack, chromium
):
    from playwright.sync_api import expect

    jobs = {
        name: dispatch(live_stack, report(live_stack, point, f"{name}@example.org"))
        for name, point in (("south", SOUTH), ("north", NORTH), ("east", EAST))
    }
    ctx = chromium.new_context(
        base_url=live_stack.base_url,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        permissions=["geolocation"],
        geolocation={"latitude": CREW_AT[0], "longitude": CREW_AT[1], "accuracy": 10},
    )
    ctx.set_default_timeout(10_000)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto("/login")
        page.get_by_label("Email", exact=True).fill("crew.a@city.test")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        # the page asks where the phone is and comes back sorted from there
        expect(page).to_have_url(re.compile(r"/crew\?lat=42\.320000&long=-71\.090000$"))
        expect(page.locator("#sort-status")).to_have_text("Nearest first, from where you are.")
        headings = page.locator("section#crew-orders article h3")
        titles = [t.split()[2] for t in headings.all_inner_texts()]
        ours = [f"#{jobs[n]}" for n in ("east", "north", "south")]
        assert [t for t in titles if t in ours] == ours, titles
        east = page.locator("article").filter(has=page.get_by_text(f"Work order #{jobs['east']}"))
        expect(east.locator(".distance")).to_have_text("820 m away")
        expect(page.get_by_role("button", name="Sort nearest first")).to_be_visible()

        east.get_by_text(re.compile(r"^Put #\d+ on hold$")).click()
        east.get_by_label("Why?").select_option("weather")
        east.get_by_role("button", name=re.compile(r"^Hold #")).click()
        expect(page.get_by_role("status")).to_contain_text("is on hold")
        expect(page).to_have_url(re.compile(r"/crew\?lat=42\.32&long=-71\.09$"))
        expect(east).to_contain_text("on hold: weather")
        east.get_by_role("button", name=re.compile(r"^Resume #")).click()
        expect(page.get_by_role("status")).to_contain_text("resumed")
        assert not errors, errors
    finally:
        ctx.close()

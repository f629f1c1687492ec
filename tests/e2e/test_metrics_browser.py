"""A manager's dashboard draws its charts and map in Chromium; the public page fits a phone."""

from __future__ import annotations

import subprocess

import pytest

from tests.e2e.conftest import BIN, ROOT, LiveStack
from tests.e2e.test_browser import (  # noqa: F401  (browser and open_context are fixtures)
    DESKTOP,
    PHONE,
    WARD_2_POINT,
    browser,
    expect,
    no_page_errors,
    open_context,
    sideways_overflow,
    sign_in,
)

pytestmark = pytest.mark.e2e


def report(stack: LiveStack, code: str) -> None:
    with stack.client() as http:
        resp = http.post(
            "/api/v1/requests",
            data={
                "service_code": code,
                "description": "Something to fix",
                "lat": str(WARD_2_POINT[0]),
                "long": str(WARD_2_POINT[1]),
                "email": "metrics.resident@example.org",
            },
        )
    assert resp.status_code == 201, resp.text


def test_dashboard_draws_its_charts_and_the_public_page_fits_a_phone(
    open_context,  # noqa: F811
    live_stack: LiveStack,
) -> None:
    for code in ("pothole", "pothole", "graffiti"):
        report(live_stack, code)
    # what the worker's cron job does each minute, done now
    subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "metrics", "refresh"],
        cwd=ROOT,
        env=live_stack.env,
        check=True,
        capture_output=True,
    )

    page = open_context(**DESKTOP).new_page()
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    with no_page_errors(page):
        sign_in(page, "manager@city.test")
        page.goto("/metrics")
        expect(page.get_by_role("heading", name="Performance dashboard")).to_be_visible()
        for canvas in ("#chart-trend", "#chart-departments", "#chart-aging"):
            # Chart.js marks a canvas it has drawn on and sizes it to its box
            page.wait_for_function(
                "(sel) => { const c = document.querySelector(sel);"
                " return window.Chart && Chart.getChart(c) && c.width > 0; }",
                arg=canvas,
            )
        drawn = page.evaluate(
            "() => Chart.getChart(document.querySelector('#chart-departments'))"
            ".data.datasets[0].data.reduce((a, b) => a + b, 0)"
        )
        assert drawn == 3
        expect(page.locator("#metrics-map .leaflet-interactive").first).to_be_attached()
    assert not console_errors, console_errors

    phone = open_context(**PHONE).new_page()
    with no_page_errors(phone):
        phone.goto("/performance")
        expect(phone.get_by_role("heading", name="Month by month")).to_be_visible()
        phone.wait_for_function(
            "() => window.Chart && Chart.getChart(document.querySelector('#chart-public-trend'))"
        )
        assert "metrics.resident@example.org" not in phone.content()
        assert sideways_overflow(phone) is None

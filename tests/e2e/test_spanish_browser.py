"""A resident on a 360 px phone switches the site to Spanish, reports a pothole in Spanish, and
is answered in Spanish: the page, its scripts' messages, the confirmation and the receipt."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e import test_browser as browser_tests
from tests.e2e.conftest import LiveStack
from tests.e2e.test_browser import (
    PHONE,
    expect,
    no_page_errors,
    shoot,
    sideways_overflow,
    wait_for_mail,
)
from tests.factories import WARD_2_POINT

# the browser journeys' fixtures: one Chromium per module, contexts that answer tile requests
browser = browser_tests.browser
open_context = browser_tests.open_context
shots = browser_tests.shots

pytestmark = pytest.mark.e2e

SMALL_PHONE = {**PHONE, "viewport": {"width": 360, "height": 780}}
ROSA = "rosa.residente@example.org"


def test_a_resident_reads_the_page_in_spanish_and_reports_in_spanish(
    open_context, live_stack: LiveStack, shots: Path, mailbox
):
    ctx = open_context(
        **SMALL_PHONE,
        locale="en-US",  # an English browser: the choice on the page is what counts
        permissions=["geolocation"],
        geolocation={"latitude": WARD_2_POINT[0], "longitude": WARD_2_POINT[1], "accuracy": 9},
    )
    page = ctx.new_page()
    with no_page_errors(page):
        page.goto("/")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("heading", name="Report a problem", level=1)).to_be_visible()

        # the switch is in the header, reached and followed by keyboard
        switch = page.get_by_role("navigation", name="Language")
        spanish = switch.get_by_role("link", name="Español")
        spanish.focus()
        page.keyboard.press("Enter")
        expect(page.locator("html")).to_have_attribute("lang", "es")
        expect(page.get_by_role("heading", name="Reportar un problema", level=1)).to_be_visible()
        switch = page.get_by_role("navigation", name="Idioma")
        expect(switch.get_by_role("link", name="Español")).to_have_attribute("aria-current", "true")
        shoot(page, shots, "es-1-home")
        assert sideways_overflow(page, 360) is None

        # the form in Spanish, its updates preset to Spanish
        # the category picker in Spanish: its search box, then the choice
        page.get_by_label("Busque en las categorías").fill("Pothole")
        page.locator("#category-picker").get_by_role("radio", name="Pothole").first.check()
        expect(page.get_by_label("Idioma de las novedades")).to_have_value("es")
        description = page.get_by_label(re.compile("^Descripción"))
        description.fill("Bache profundo en el carril de bicicletas")
        # the scripts speak Spanish too
        expect(page.locator("#description-count")).to_have_text(
            re.compile(r"^Quedan \d+ de \d+ caracteres$")
        )
        page.get_by_role("button", name="Usar mi ubicación").click()
        expect(page.locator("#locate-status")).to_contain_text("Ubicación marcada")
        expect(page.get_by_label("Latitud")).to_have_value(f"{WARD_2_POINT[0]:.6f}")
        page.get_by_label("Correo electrónico", exact=True).fill(ROSA)
        shoot(page, shots, "es-2-form")

        page.get_by_role("button", name="Enviar el reporte").click()
        expect(page).to_have_url(re.compile(r"/requests/\d+$"))
        request_id = int(page.url.rsplit("/", 1)[1])
        expect(page.locator("html")).to_have_attribute("lang", "es")
        expect(page.get_by_role("status")).to_contain_text(
            f"Gracias. Su número de solicitud es el {request_id}."
        )
        heading = page.get_by_role("heading", level=1)
        expect(heading).to_have_text(f"Solicitud {request_id}: Pothole")
        expect(page.get_by_role("heading", name=re.compile("^Estado:"))).to_contain_text("Recibida")
        expect(page.get_by_text("Historial")).to_be_visible()
        shoot(page, shots, "es-3-confirmation")
        assert sideways_overflow(page, 360) is None

    # the reporter's messages follow the language the page was read in
    receipt = wait_for_mail(mailbox, ROSA, f"Recibimos su reporte {request_id}")
    assert receipt["Content-Language"] == "es"
    with live_stack.client() as http:
        assert http.get(f"/api/v1/requests/{request_id}").status_code == 200
    print(f"screenshots in {shots}")

"""Every resident page in Spanish for a Spanish browser, with none of its English text left;
a report made from the Spanish page is written to in Spanish."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import render_template
from sqlalchemy import select

from app.core.i18n import HTTP_ERROR_MESSAGES
from app.extensions import db
from app.notifications import follow, survey, tasks
from app.notifications.models import Outbox
from app.requests import lifecycle
from app.requests.models import RequestEvent, ServiceRequest
from tests.factories import WARD_2_POINT, submit

ES = {"Accept-Language": "es-US,es;q=0.9"}
EN = {"Accept-Language": "en-US,en;q=0.9"}
#: the header and footer of every resident page
FRAME = ["Skip to content", "Report a problem", "Map of reports", "Staff sign in", "Open data"]


def stored() -> ServiceRequest:
    """A new request, committed: a page that refuses input rolls back what is not."""
    sr = submit()
    db.session.commit()
    return sr


def closed_request() -> ServiceRequest:
    sr = stored()
    lifecycle.close(sr, reason="fixed", actor_id=None, note="Patched.")
    db.session.commit()
    return sr


def survey_token(sr: ServiceRequest) -> str:
    closing = db.session.scalars(
        select(RequestEvent).where(RequestEvent.request_id == sr.id, RequestEvent.kind == "closed")
    ).one()
    return survey.make_token(survey.Ask(sr.id, closing.id))


def follow_with(email: str) -> Callable:
    """Fetch the tracking page after asking to follow a new request with this address."""
    return lambda client, h: client.post(
        f"/requests/{stored().id}/follow", data={"email": email}, headers=h, follow_redirects=True
    )


def report(**fields: str) -> dict[str, str]:
    """The resident form's fields for a pothole in Ward 2, with `fields` over them."""
    base = {
        "service_code": "pothole",
        "description": "Bache",
        "lat": str(WARD_2_POINT[0]),
        "long": str(WARD_2_POINT[1]),
    }
    return base | fields


def unsubscribe_path(sr: ServiceRequest) -> str:
    url = follow.unsubscribe_url(follow.Who(sr.id, "rita@example.org", "es"))
    return "/" + url.split("/", 3)[3]


# (name, how to fetch the page with the given headers, its fixed English phrases)
HOME = [
    "Tell us what is wrong and where",
    "What is the problem?",
    "Choose a category",
    "Description",
    "anything that helps the crew find it",
    "characters.",
    "Where is it?",
    "Search an address or intersection",
    "Tap the map to drop the pin",
    "Use my location",
    "Latitude",
    "Longitude",
    "Address or landmark",
    "Is it one of these?",
    "Your email, to follow a report",
    "Add a photo of the problem",
    "Location data in the files is never published",
    "Your details",
    "These stay private",
    "Send me updates by",
    "Email only",
    "Text message only",
    "No updates",
    "With no choice, updates go by email",
    "Language of the updates",
    "Send the report",
    "Reported it already?",
    "Track a request by its number",
    "See what neighbours reported",
]
PAGES: list[tuple[str, Callable, list[str]]] = [
    ("home page", lambda client, h: client.get("/", headers=h), HOME),
    (
        "home page with every error",
        lambda client, h: client.post(
            "/",
            data={"description": "", "email": "rosa@", "notify": "sms", "language": ""},
            headers=h,
        ),
        ["Please check these", "Choose the category of the problem", "Show us where"],
    ),
    (
        "home page with a service's errors",
        lambda client, h: client.post("/", data=report(email="rosa@"), headers=h),
        ["Please check this", "is not an email address", "Send the report"],
    ),
    (
        "home page with a wrong latitude",
        lambda client, h: client.post("/", data=report(lat="north", long="1"), headers=h),
        ["Please check this", "latitude must be a number", "Send the report"],
    ),
    (
        "tracking page",
        lambda client, h: client.get(f"/requests/{stored().id}", headers=h),
        [
            "What was reported",
            "History",
            "Follow this request",
            "Your email",
            "Report another problem",
            "Due by",
            "Status:",
            "handled by",
            "Report received",
            "Map of the reported location",
            "We send a link to confirm",
        ],
    ),
    (
        "tracking page of a closed request",
        lambda client, h: client.get(f"/requests/{closed_request().id}", headers=h),
        ["What was reported", "History", "Closed", "Fixed", "Report another problem"],
    ),
    (
        "public map",
        lambda client, h: client.get("/map", headers=h),
        [
            "Problems reported in the last 90 days",
            "Who reported it is never shown",
            "All categories",
            "Any status",
            "Not fixed yet",
            "Work in progress",
            "The map needs JavaScript",
            "Map of reported problems",
        ],
    ),
    (
        "open data page",
        lambda client, h: client.get("/open-data", headers=h),
        [
            "free to download and reuse",
            "Downloads",
            "one row per request",
            "Narrow any file",
            "What is left out",
            "No free text",
            "Columns of requests.csv",
            "the request number residents see",
            "when it was reported",
            "Times are in the city",
        ],
    ),
    (
        "performance page",
        lambda client, h: client.get("/performance", headers=h),
        [
            "311 is doing",
            "how long they took to fix",
            "Updated from live data",
            "Across the city",
            "Typical time to fix",
            "Fixed on time",
            "within the promised time",
            "Open now",
            "Month by month",
            "Reports and share fixed on time",
            "By kind of problem",
            "By district",
            "Median to close",
            "Within SLA",
            "Nothing to show for this range",
            "Small sample",
            "Medians and p90s",
            "counted apart",
        ],
    ),
    (
        "unsubscribe question",
        lambda client, h: client.get(unsubscribe_path(stored()), headers=h),
        ["Stop emails about request", "will get no more messages", "Stop these emails"],
    ),
    (
        "unsubscribed",
        lambda client, h: client.post(unsubscribe_path(stored()), headers=h),
        ["You will get no more emails", "is unsubscribed", "Other requests", "Track request"],
    ),
    (
        "is it fixed? question",
        lambda client, h: client.get(f"/survey/{survey_token(closed_request())}", headers=h),
        [
            "Is the problem fixed?",
            "Yes, it is fixed",
            "No, it is not fixed",
            "How satisfied are you",
            "(not at all)",
            "Anything to add?",
            "Send my answer",
        ],
    ),
    (
        "is it fixed? answered without a choice",
        lambda client, h: client.post(
            f"/survey/{survey_token(closed_request())}", data={"answer": ""}, headers=h
        ),
        ["Say whether the problem is fixed", "Is the problem fixed?"],
    ),
    (
        "is it fixed? thanks",
        lambda client, h: client.post(
            f"/survey/{survey_token(closed_request())}", data={"answer": "fixed"}, headers=h
        ),
        ["Thank you", "We are glad", "Track request"],
    ),
    ("follow asked", follow_with("fan@example.org"), ["Check your inbox"]),
    ("follow with a wrong address", follow_with("not an address"), ["Enter an email address"]),
    (
        "follow confirmed",
        lambda client, h: client.get(
            "/"
            + follow.confirm_url(follow.Who(stored().id, "fan@example.org", "es")).split("/", 3)[3],
            headers=h,
            follow_redirects=True,
        ),
        ["You follow request", "its news"],
    ),
    (
        "forged link",
        lambda client, h: client.get("/follow/forged", headers=h),
        ["Not found", "This link is not valid", "Back to the start"],
    ),
    (
        "unknown address",
        lambda client, h: client.get("/no/such/page", headers=h),
        ["Not found", "There is no page at this address", "Back to the start"],
    ),
    (
        "track box with an unknown number",
        lambda client, h: client.get("/track?number=987654", headers=h),
        ["Not found", "There is no request number", "check the number in your receipt"],
    ),
    (
        "track box with no number",
        lambda client, h: client.get("/track?number=abc", headers=h),
        ["Type the request number"],
    ),
    (
        "tracking page of an unknown request",
        lambda client, h: client.get("/requests/987654", headers=h),
        ["Not found", "There is no service request"],
    ),
]
STATUS = {
    "home page with every error": 400,
    "home page with a service's errors": 400,
    "home page with a wrong latitude": 400,
    "forged link": 404,
    "unknown address": 404,
    "track box with an unknown number": 404,
    "track box with no number": 404,
    "tracking page of an unknown request": 404,
    "is it fixed? answered without a choice": 400,
}


def visible_text(html: str) -> str:
    """The page as read, labels for screen readers included; the scripts' words (checked by
    tests/core/test_i18n.py) and the language switch (each language in its own) left out."""
    html = re.sub(r'<div id="i18n"[^>]*></div>', "", html)
    return re.sub(r'<nav aria-label="[^"]*" class="lang-switch">.*?</nav>', "", html, flags=re.S)


@pytest.mark.parametrize(("name", "fetch", "phrases"), PAGES, ids=[p[0] for p in PAGES])
def test_every_resident_page_is_in_spanish_with_no_english_left(client, city, name, fetch, phrases):
    english = fetch(client, EN)
    db.session.commit()
    spanish = fetch(client, ES)
    expected = STATUS.get(name, 200)
    assert (english.status_code, spanish.status_code) == (expected, expected)
    english_text = visible_text(english.get_data(as_text=True))
    spanish_text = visible_text(spanish.get_data(as_text=True))
    # the phrases are the English page's own: the test checks what the page really says
    assert [p for p in phrases + FRAME if p not in english_text] == []
    assert '<html lang="es">' in spanish.get_data(as_text=True)
    assert [p for p in phrases + FRAME if p in spanish_text] == []


def test_the_tracking_page_dates_are_in_spanish_in_the_city_timezone(client, city):
    sr = submit()
    db.session.commit()
    page = client.get(f"/requests/{sr.id}", headers=ES).get_data(as_text=True)
    local = sr.requested_at.astimezone(__import__("zoneinfo").ZoneInfo(city_tz(client)))
    months = "ene feb mar abr may jun jul ago sept oct nov dic".split()
    # Spanish short times have no leading zero on the hour: "0:12", "10:52"
    expected = f"{local.day} {months[local.month - 1]} {local.year}, {local.hour}:{local:%M}"
    assert f"Reportada el {expected}" in page


def city_tz(client) -> str:
    return client.application.config["CITY_TIMEZONE"]


def test_the_rate_limit_page_is_in_spanish(client, city, monkeypatch):
    monkeypatch.setitem(client.application.config, "RATELIMIT_FOLLOW", "1/minute")
    sr = submit()
    db.session.commit()
    url = f"/requests/{sr.id}/follow"
    client.post(url, data={"email": "fan@example.org"}, headers=ES)
    resp = client.post(url, data={"email": "fan@example.org"}, headers=ES)
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0
    text = visible_text(resp.get_data(as_text=True))
    assert "Demasiadas solicitudes" in text and "espere" in text
    assert "Too many requests" not in text and "please wait" not in text


@pytest.mark.parametrize("status", [403, 500])
def test_the_forbidden_and_server_error_pages_are_in_spanish(app, status):
    with app.test_request_context("/no/such/page", headers=ES):
        page = render_template("error.html", status=status, message=HTTP_ERROR_MESSAGES[status])
    assert '<html lang="es">' in page
    heading = {403: "No permitido", 500: "Algo salió mal"}[status]
    assert f"<h1>{heading}</h1>" in page
    assert "Not allowed" not in page and "Something went wrong" not in page
    assert "Volver al inicio" in page


def selected_language(page: str) -> str:
    select_ = re.search(r'<select id="language" name="language".*?</select>', page, re.S).group(0)
    return re.search(r'<option value="(\w+)"[^>]*selected', select_).group(1)


def test_the_language_of_the_updates_defaults_to_the_page_language(client, city):
    assert selected_language(client.get("/", headers=ES).get_data(as_text=True)) == "es"
    assert selected_language(client.get("/", headers=EN).get_data(as_text=True)) == "en"
    # chosen on the page, against the browser
    chosen = client.get("/?lang=es", headers=EN).get_data(as_text=True)
    assert selected_language(chosen) == "es"


def test_a_report_from_the_spanish_page_is_answered_in_spanish(client, city, mailbox):
    client.get("/?lang=es", headers=EN)  # the resident switched to Español on the page
    page = client.get("/", headers=EN).get_data(as_text=True)
    data = report(
        description="Bache profundo frente a la escuela",
        email="rosa@example.org",
        language=selected_language(page),
    )
    sent = client.post("/", data=data, headers=EN, follow_redirects=True)
    assert sent.status_code == 200
    confirmation = sent.get_data(as_text=True)
    assert '<html lang="es">' in confirmation and "Gracias" in confirmation
    sr = db.session.scalars(select(ServiceRequest).order_by(ServiceRequest.id.desc())).first()
    assert sr.language == "es"
    assert f"Su número de solicitud es el {sr.id}" in confirmation
    db.session.commit()
    [receipt] = db.session.scalars(
        select(Outbox).where(Outbox.request_id == sr.id, Outbox.event == "receipt")
    ).all()
    assert tasks.deliver(receipt.id) == "sent"
    [msg] = mailbox.wait_for(1)
    assert msg["Content-Language"] == "es"
    assert msg["Subject"] == f"Recibimos su reporte {sr.id}: Pothole"


def test_a_report_without_a_language_choice_follows_the_page(client, city):
    client.set_cookie("lang", "es")
    client.post("/", data=report(), headers=EN)
    sr = db.session.scalars(select(ServiceRequest).order_by(ServiceRequest.id.desc())).first()
    assert sr.description == "Bache" and sr.language == "es"

"""The language of the resident pages (Flask-Babel): English and Spanish, staff pages in English.

The page's language is, in this order: the `lang` a resident chose on the page (the header's
"English | Español" links add `?lang=`, kept in a `lang` cookie), that cookie, the best match
of the browser's Accept-Language among LANGUAGES, then English. Staff pages are written in
English only, so they are always rendered in English: a Spanish browser must not get a page
that says lang="es" around English text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, current_app, request
from flask_babel import Babel, format_date, format_time, get_locale, gettext, lazy_gettext, refresh

from app.requests.words import (
    LANGUAGE_NAMES,
    LANGUAGES,
    STATUS_WORDS,
    resident_words,
    status_word,
)

#: the cookie that keeps a resident's explicit choice of language
LANG_COOKIE = "lang"
#: a year: the choice is a preference, not a session
LANG_COOKIE_AGE = 365 * 24 * 3600

#: the blueprints whose every page is for residents
RESIDENT_BLUEPRINTS = frozenset({"follow", "survey"})
#: resident pages in blueprints that also hold staff pages
RESIDENT_ENDPOINTS = frozenset(
    {
        "requests.report",
        "requests.track",
        "requests.track_lookup",
        "requests.public_map",
        "opendata.index",
        "performance.performance",
    }
)

babel = Babel()


def is_resident_page() -> bool:
    """Tell whether this request is for a resident page (an unknown URL's 404 is one too)."""
    endpoint = request.endpoint
    if endpoint is None:
        return True
    return endpoint in RESIDENT_ENDPOINTS or request.blueprint in RESIDENT_BLUEPRINTS


def chosen_language() -> str | None:
    """Return the language chosen on the page (?lang=) or kept in the cookie, if supported."""
    for candidate in (request.args.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return None


def select_locale() -> str:
    """Return the page's language: the choice, the cookie, the browser, then the default."""
    if not is_resident_page():
        return LANGUAGES[0]
    return chosen_language() or request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


def page_language() -> str:
    """Return the language the current page is rendered in (a code of LANGUAGES)."""
    locale = get_locale()
    code = locale.language if locale is not None else LANGUAGES[0]
    return code if code in LANGUAGES else LANGUAGES[0]


def citydate(moment: datetime | None) -> str:
    """Format a moment in the city's timezone and the page's language ("30 nov 2026, 10:52")."""
    if moment is None:
        return ""
    return f"{format_date(moment, 'medium')}, {format_time(moment, 'short')}"


def language_links() -> list[dict[str, Any]]:
    """Return the header's language switch: each language's name, link, and whether current."""
    current = page_language()
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    links = []
    for code in LANGUAGES:
        href = f"{request.path}?{urlencode([*args, ('lang', code)])}"
        links.append(
            {"code": code, "name": LANGUAGE_NAMES[code], "href": href, "current": code == current}
        )
    return links


def js_messages() -> dict[str, str]:
    """Return the words the resident pages' scripts show, in the page's language.

    The scripts read them from the page (a data attribute: the CSP allows no inline script);
    `%(name)s` placeholders are filled in by the script.
    """
    language = page_language()
    messages = {key: str(text) for key, text in JS_MESSAGES.items()}
    messages.update({f"status:{code}": status_word(code, language) for code in STATUS_WORDS})
    return messages


def translate_message(message: str) -> str:
    """Return a service's fixed message in the page's language (as it is when not known).

    The services speak English (the API's language); the resident pages translate the
    messages listed in RESIDENT_MESSAGES, whose English text is the catalog's key.
    """
    return gettext(message) if message else message


def resident_error(field: str, message: str) -> str:
    """Return a form field's error in the page's language.

    A message the catalog knows is translated; one with values in it that the catalog cannot
    know (a service's "'x@' is not an email address.") gives way to the field's own advice,
    so a Spanish page shows no English.
    """
    translated = translate_message(message)
    if translated != message or page_language() == LANGUAGES[0]:
        return translated
    advice = FIELD_ERRORS.get(field) or (
        FIELD_ERRORS["question"] if field.startswith("attr:") else FIELD_ERRORS["form"]
    )
    return str(advice)


def _keep_choice(response: Response) -> Response:
    """Keep the language chosen with ?lang= in a cookie, so the next pages speak it too."""
    if response.mimetype == "text/html" and is_resident_page():
        # a shared cache must not give one reader's language to the next
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
    chosen = request.args.get("lang")
    if chosen in LANGUAGES and request.cookies.get(LANG_COOKIE) != chosen:
        response.set_cookie(
            LANG_COOKIE,
            chosen,
            max_age=LANG_COOKIE_AGE,
            samesite="Lax",
            secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
            httponly=True,
        )
    return response


def init_app(app: Flask) -> None:
    """Bind Flask-Babel (dates in the city's timezone) and give templates the language."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", LANGUAGES[0])
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["CITY_TIMEZONE"]
    babel.init_app(app, locale_selector=select_locale)
    # Flask-Babel keeps the locale on the app context, which a request shares with an
    # enclosing one (a CLI command, the tests): each request chooses afresh
    app.before_request(refresh)
    app.after_request(_keep_choice)
    app.add_template_filter(citydate, "citydate")

    @app.context_processor
    def language_context() -> dict[str, object]:
        return {
            "page_language": page_language,
            "resident_page": is_resident_page,
            # the status, event and closure words of the resident pages, in their language
            "words": lambda: resident_words(page_language()),
            "language_links": language_links,
            "js_messages": js_messages,
        }


_ = lazy_gettext

#: the scripts' words (report.js, nearby.js, address-search.js, public-map.js), by key
JS_MESSAGES = {
    "chars_left": _("%(left)s of %(max)s characters left"),
    "pin_title": _("Problem location"),
    "map_unavailable": _(
        "The street map could not load; the outlines show the city. "
        "Search an address, tap the map, or use your location."
    ),
    "locating": _("Finding your location…"),
    "located": _(
        "Location set (within about %(metres)s m). Drag the pin if it is not quite right."
    ),
    "location_blocked": _(
        "Location is blocked for this site. Tap the map or type the coordinates instead."
    ),
    "location_failed": _(
        "Your location could not be found. Tap the map or type the coordinates instead."
    ),
    "photo_too_large": _(
        "This photo is %(size)s MB; the limit is %(max)s MB. Choose a smaller one."
    ),
    "follow_email_first": _("Type your email address first, then choose the report to follow."),
    "follow_sent": _(
        "Check your inbox: confirm with the link we sent to follow request %(id)s. "
        "You do not need to send this report."
    ),
    "follow_failed": _("That did not work: check your email address and try again."),
    "too_many": _("Too many requests at once: wait a moment and try again."),
    "offline": _("You seem to be offline; try again in a moment."),
    "distance_reported": _("%(metres)s m away · reported %(date)s"),
    "follow_instead": _("Follow this one instead"),
    "follow_instead_label": _("Follow request %(id)s instead"),
    "places_one": _("1 place found: use the arrow keys and Enter to choose."),
    "places_many": _("%(count)s places found: use the arrow keys and Enter to choose."),
    "no_place": _("No place matches. Check the spelling, or place the pin on the map."),
    "pin_placed": _("Pin placed at %(place)s. Drag it to the exact spot."),
    "search_busy": _("Too many searches at once: wait a moment and type again."),
    "search_down": _("The search cannot be reached; place the pin on the map instead."),
    "reported_on": _("reported %(date)s"),
    "reports_one": _("1 report on the map."),
    "reports_many": _("%(count)s reports on the map."),
    "reports_failed": _("The reports could not be loaded; try again later."),
    "reports_loading": _("Loading reports…"),
    "your_photo": _("Your photo"),
    "photo_refused": _("The photo was refused."),
    "zoom_in": _("Zoom in"),
    "zoom_out": _("Zoom out"),
    "chart_reports": _("Reports"),
    "chart_on_time": _("Share fixed on time (%)"),
    "axis_reports": _("reports"),
    "axis_on_time": _("On time (%)"),
}

#: the services' fixed messages that residents read on pages; each is the exact English text
#: a service raises (tests/core/test_i18n.py checks that each is still raised somewhere)
RESIDENT_MESSAGES = (
    _("Enter an email address, such as name@example.org."),
    _("This link is not valid or has expired: use the link in the email as it was."),
    _("This link is not valid: use the link in the email as it was."),
    _("Choose a rating from 1 to 5."),
    _("Describe the problem: description is required."),
    _("Give an email address to get updates by email."),
    _("Give a mobile number to get updates by text."),
)

#: what a resident page says for an HTTP error whose description is werkzeug's own
HTTP_ERROR_MESSAGES = {
    400: _("The request could not be understood: go back and try again."),
    403: _("You are not allowed to see this page."),
    404: _("There is no page at this address: check it, or start again from the home page."),
    405: _("This page cannot be used that way: go back and try again."),
    500: _("Something went wrong on our side. Please try again in a few minutes."),
}

#: each form field's advice, for an error whose own words the catalog cannot hold
FIELD_ERRORS = {
    "service_code": _("Choose the category of the problem."),
    "description": _("Check the description: say what is wrong, in fewer words if it is long."),
    "lat": _("The latitude must be a number in decimal degrees, inside the city."),
    "long": _("The longitude must be a number in decimal degrees, inside the city."),
    "location": _("This place is outside the city: we can only take requests inside it."),
    "photo": _("This file cannot be taken: send JPEG, PNG or WebP photos within the size limit."),
    "email": _("This is not an email address: check it, e.g. name@example.org."),
    "phone": _(
        "To get text messages, give a mobile number such as (617) 555-0199 or +1 617 555 0199."
    ),
    "notify": _("Choose how to get updates."),
    "language": _("Choose the language of the updates."),
    "question": _("Check your answer to this question."),
    "form": _("Check the form and send it again."),
}

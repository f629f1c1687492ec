"""The page's language: chosen on the page, kept in a cookie, else the browser's, else English;
and a Spanish catalog with every message of the code translated."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from app.core.i18n import JS_MESSAGES, RESIDENT_MESSAGES

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "app" / "translations" / "es" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def page_lang(resp) -> str:
    return re.search(r'<html lang="([^"]+)">', resp.get_data(as_text=True)).group(1)


def read_catalog():
    with CATALOG.open("rb") as f:
        return read_po(f, locale="es")


def test_the_spanish_catalog_has_no_untranslated_or_fuzzy_entry():
    catalog = read_catalog()
    assert not catalog.fuzzy
    untranslated, fuzzy = [], []
    for msg in catalog:
        if not msg.id:
            continue
        strings = msg.string if isinstance(msg.string, tuple) else (msg.string,)
        if not all(strings):
            untranslated.append(msg.id)
        if msg.fuzzy:
            fuzzy.append(msg.id)
    assert len(catalog) > 100
    assert untranslated == [] and fuzzy == []


def test_every_translation_keeps_the_placeholders_of_its_english():
    wrong = []
    for msg in read_catalog():
        if not msg.id:
            continue
        ids = msg.id if isinstance(msg.id, tuple) else (msg.id,)
        strings = msg.string if isinstance(msg.string, tuple) else (msg.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        wrong += [(ids[0], s) for s in strings if set(PLACEHOLDER.findall(s)) != wanted]
    assert wrong == []


def test_the_catalog_holds_every_message_of_the_code():
    """A string wrapped in _() but missing from the .po would show in English."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    extracted = {
        (m[2] if isinstance(m[2], str) else m[2][0])
        for m in extract_from_dir(
            str(ROOT),
            method_map,
            options_map,
            keywords={"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None},
        )
    }
    known = {msg.id if isinstance(msg.id, str) else msg.id[0] for msg in read_catalog()}
    assert extracted and sorted(extracted - known) == []


def test_the_service_messages_residents_read_are_still_raised_somewhere():
    """RESIDENT_MESSAGES translate the services' words: a reworded service message would
    silently stay English on the resident pages."""
    source = "\n".join(p.read_text() for p in (ROOT / "app").rglob("*.py"))
    source = re.sub(r"\"\s*\n\s*\"", "", source)  # join implicitly concatenated strings
    for message in RESIDENT_MESSAGES:
        assert source.count(f'"{message}"') >= 2, message  # the service's and the list's


@pytest.mark.parametrize(
    ("query", "cookie", "header", "expected"),
    [
        ("?lang=es", None, "en-US,en;q=0.9", "es"),  # the choice on the page beats all
        ("?lang=en", "es", "es-MX", "en"),
        ("", "es", "en-US", "es"),  # then the kept choice
        ("", "en", "es-MX,es;q=0.9", "en"),
        ("", None, "es-MX,es;q=0.9,en;q=0.5", "es"),  # then the browser
        ("", None, "fr-CA, es-US;q=0.5", "es"),  # the best one we write in
        ("", None, "fr, de", "en"),  # then English
        ("", None, None, "en"),
        ("?lang=xx", "zz", "es", "es"),  # an unknown choice is no choice
    ],
)
def test_the_page_language_is_the_choice_then_the_cookie_then_the_browser_then_english(
    client, city, query, cookie, header, expected
):
    if cookie:
        client.set_cookie("lang", cookie)
    headers = {"Accept-Language": header} if header else {}
    resp = client.get(f"/{query}", headers=headers)
    assert resp.status_code == 200
    assert page_lang(resp) == expected


def test_choosing_a_language_is_kept_for_the_next_pages(client, city):
    chosen = client.get("/map?lang=es", headers={"Accept-Language": "en"})
    assert page_lang(chosen) == "es"
    cookie = chosen.headers["Set-Cookie"]
    assert cookie.startswith("lang=es;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    later = client.get("/open-data", headers={"Accept-Language": "en"})
    assert page_lang(later) == "es"
    assert "Datos abiertos" in later.get_data(as_text=True)
    assert {"Accept-Language", "Cookie"} <= set(later.vary)  # caches keep each language apart
    back = client.get("/open-data?lang=en")
    assert page_lang(back) == "en" and "lang=en;" in back.headers["Set-Cookie"]
    assert page_lang(client.get("/map")) == "en"


def test_the_header_links_to_each_language_and_marks_the_current_one(client, city):
    page = client.get("/map?status=open", headers={"Accept-Language": "es"}).get_data(as_text=True)
    switch = re.search(r'<nav aria-label="Idioma" class="lang-switch">(.*?)</nav>', page, re.S)
    assert switch, "the language switch is in the header"
    links = re.findall(r'<a href="([^"]+)" lang="(\w+)"[^>]*?( aria-current="true")?>(\w+)', page)
    assert [(href, lang, name) for href, lang, _, name in links[-2:]] == [
        ("/map?status=open&amp;lang=en", "en", "English"),
        ("/map?status=open&amp;lang=es", "es", "Español"),
    ]
    assert [bool(current) for _, _, current, _ in links[-2:]] == [False, True]


def test_staff_pages_stay_english_whatever_the_browser_says(client, city):
    login = client.get("/login?lang=es", headers={"Accept-Language": "es"})
    assert page_lang(login) == "en"
    assert "lang-switch" not in login.get_data(as_text=True)
    client.set_cookie("lang", "es")
    assert page_lang(client.get("/login")) == "en"


def test_the_api_answers_in_english_for_any_browser(client, city):
    resp = client.get("/api/v1/requests/999999", headers={"Accept-Language": "es"})
    assert resp.status_code == 404
    assert "There is no service request" in resp.get_json()["message"]


def test_the_scripts_words_are_given_in_the_page_language(client, city):
    spanish = script_words(client.get("/map", headers={"Accept-Language": "es"}))
    english = script_words(client.get("/map?lang=en"))
    assert set(spanish) == set(english) >= set(JS_MESSAGES) | {"status:in_progress"}
    assert spanish["reports_loading"] == "Cargando reportes…"
    assert spanish["status:in_progress"] == "Trabajo en curso"
    assert english["reports_loading"] == "Loading reports…"
    same = [k for k in JS_MESSAGES if spanish[k] == english[k]]
    assert same == []


def script_words(resp) -> dict[str, str]:
    page = resp.get_data(as_text=True)
    holder = re.search(r'<div id="i18n" hidden data-messages="([^"]+)"', page)
    assert holder, "the scripts' words are in a data attribute (the CSP forbids inline script)"
    return json.loads(html.unescape(holder.group(1)))

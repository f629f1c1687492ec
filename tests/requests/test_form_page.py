"""The report form rendered once per language and served to every anonymous visitor for
RESIDENT_FORM_CACHE_SECONDS: what each visitor still gets of their own, how stale it may be,
and which pages are never shared."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from app.extensions import db
from app.requests import form_page
from app.requests.models import ServiceRequest
from tests.factories import make_service_type
from tests.helpers import sign_in
from tests.requests.test_views import form, post_report

ES = {"Accept-Language": "es"}


@pytest.fixture
def shared_pages(app, restore_config):
    restore_config["RESIDENT_FORM_CACHE_SECONDS"] = 60
    with app.app_context():
        form_page.clear()
    yield restore_config
    with app.app_context():
        form_page.clear()


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _key(page: str) -> str:
    return re.search(r'name="idempotency_key" id="idempotency_key" value="([^"]+)"', page).group(1)


def _masked(page: str) -> str:
    return page.replace(_token(page), "TOKEN").replace(_key(page), "KEY")


def _page(client, url: str = "/", **kw) -> str:
    resp = client.get(url, **kw)
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def test_each_visitor_gets_the_shared_form_with_a_token_and_a_key_of_their_own(
    app, client, city, shared_pages
):
    first, second = _page(client), _page(app.test_client())
    assert _masked(first) == _masked(second)
    assert _key(first) != _key(second)
    assert form_page.CSRF_MARK not in first and form_page.KEY_MARK not in first
    # the form is the one rendered afresh, marks aside
    shared_pages["RESIDENT_FORM_CACHE_SECONDS"] = 0
    assert _masked(_page(client)) == _masked(first)


def test_a_report_sent_from_the_shared_form_is_stored_once_with_its_csrf_token(
    client, city, shared_pages
):
    page = _page(client)
    shared_pages["WTF_CSRF_ENABLED"] = True
    sent = form(csrf_token=_token(page), idempotency_key=_key(page))
    assert post_report(client, {**sent, "csrf_token": "forged"}).status_code == 400

    resp = post_report(client, sent)
    assert resp.status_code == 303, resp.get_data(as_text=True)[:300]
    again = post_report(client, sent)  # the same submit twice: the same request
    assert again.headers["Location"] == resp.headers["Location"]
    stored = db.session.scalars(
        select(ServiceRequest).where(ServiceRequest.description == sent["description"])
    ).all()
    assert len(stored) == 1 and resp.headers["Location"].endswith(f"/requests/{stored[0].id}")


def test_a_new_type_reaches_the_form_once_the_page_is_older_than_the_setting(
    client, city, shared_pages
):
    shared_pages["RESIDENT_FORM_CACHE_SECONDS"] = 2
    assert 'value="fallen_tree"' not in _page(client)
    make_service_type("fallen_tree", city.parks, name="Fallen tree", group="Parks")
    assert 'value="fallen_tree"' not in _page(client)
    time.sleep(2.1)
    assert 'value="fallen_tree"' in _page(client)


def test_each_language_has_its_own_page(app, client, city, shared_pages):
    english = _page(client)
    assert '<html lang="en">' in english and "Report a problem" in english
    spanish = _page(app.test_client(), headers=ES)
    assert '<html lang="es">' in spanish and "Reportar un problema" in spanish
    chosen = _page(app.test_client(), "/?lang=es")
    assert _masked(chosen) == _masked(spanish)
    assert '<html lang="en">' in _page(app.test_client(), "/?lang=en", headers=ES)


def test_staff_flashed_messages_and_other_arguments_get_a_page_of_their_own(
    app, client, city, shared_pages
):
    shared = _page(app.test_client())  # the page every visitor gets is kept

    sign_in(client, city.users["agent"])
    staff = _page(client)
    assert "Sign out (agent@city.test)" in staff and "Staff sign in" not in staff

    visitor = app.test_client()
    with visitor.session_transaction() as session:
        session["_flashes"] = [("success", "Your follow-up is saved.")]
    assert "Your follow-up is saved." in _page(visitor)

    argued = _page(app.test_client(), "/?from=poster")
    assert 'href="/?from=poster&amp;lang=es"' in argued
    assert "from=poster" not in shared

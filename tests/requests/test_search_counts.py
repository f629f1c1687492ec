"""A staff search counts its matches only so far, and says so, yet every match can be paged to."""

from __future__ import annotations

import json

import pytest

from app.requests import queries
from tests.factories import submit
from tests.helpers import bearer, sign_in


@pytest.fixture()
def small_cap(monkeypatch):
    # the real cap is 500 past the page: a handful of requests shows the same behaviour
    monkeypatch.setattr(queries, "SEARCH_COUNT_CAP", 3)


def api_page(client, token: str, **params):
    resp = client.get("/api/v1/requests", query_string=params, headers=bearer(token))
    assert resp.status_code == 200, resp.get_json()
    return [item["id"] for item in resp.get_json()], json.loads(resp.headers["X-Pagination"])


def test_a_common_word_reports_a_lower_bound_and_pages_on(client, city, tokens, small_cap):
    made = [submit(description=f"Lamppost flickering {i}") for i in range(8)]
    newest_first = [sr.id for sr in reversed(made)]
    token = tokens["manager"]

    first, meta = api_page(client, token, q="lamppost", page_size=2)
    assert first == newest_first[:2]
    assert meta["total"] == 3 and meta["total_is_lower_bound"] is True
    assert meta["next_page"] == 2

    # each page counts further: every match is reachable by following next_page
    seen, page = [], 1
    while True:
        found, meta = api_page(client, token, q="lamppost", page_size=2, page=page)
        seen += found
        if "next_page" not in meta:
            break
        page = meta["next_page"]
    assert seen == newest_first
    # the last pages counted every match: the total is exact again
    assert meta["total"] == 8 and "total_is_lower_bound" not in meta


def test_a_search_under_the_cap_has_an_exact_total(client, city, tokens, small_cap):
    made = [submit(description=f"Bench broken {i}") for i in range(3)]
    found, meta = api_page(client, tokens["agent"], q="bench broken")
    assert sorted(found) == sorted(sr.id for sr in made)
    assert meta["total"] == 3 and "total_is_lower_bound" not in meta


def test_the_search_page_says_more_than(client, city, small_cap):
    for i in range(60):
        submit(description=f"Hydrant leaking {i}")
    sign_in(client, city.users["agent"])
    page = client.get("/staff/requests", query_string={"q": "hydrant"}).get_data(as_text=True)
    # 50 shown and more counted: the page says there are more, and links to the next page
    assert "More than 51 requests found" in page
    assert "Page 1 of more than 2" in page and "Next page" in page

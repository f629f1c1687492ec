"""GET requests answered from a process's memory for OPEN311_FEED_CACHE_SECONDS: how stale the
feed may be, which queries share an answer, and the bound on the memory it takes."""

from __future__ import annotations

import time

import pytest

from app.open311 import feed_cache
from tests.factories import submit
from tests.open311.conftest import BASE, parse_xml


@pytest.fixture
def cache_on(app, restore_config):
    restore_config.update(OPEN311_FEED_CACHE_SECONDS=0.5, OPEN311_FEED_CACHE_CHARS=1_000_000)
    with app.app_context():
        feed_cache.clear()
    yield restore_config
    with app.app_context():
        feed_cache.clear()


def _ids(client, query: str = "") -> list[int]:
    resp = client.get(f"{BASE}/requests.json{query}")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return [int(r["service_request_id"]) for r in resp.get_json()]


def _xml_ids(client, query: str = "") -> list[int]:
    resp = client.get(f"{BASE}/requests.xml{query}")
    assert resp.status_code == 200
    _, data = parse_xml(resp)
    return [int(r["service_request_id"]) for r in data]


def test_a_new_request_reaches_the_feed_once_the_answer_is_older_than_the_setting(
    client, city, cache_on
):
    first = submit("pothole").id
    assert _ids(client) == [first]
    second = submit("pothole").id

    # the same query, in either format, is answered from memory: the new request is not yet
    assert _ids(client) == [first]
    assert _xml_ids(client) == [first]
    # another query is answered afresh
    assert _ids(client, "?status=open") == [second, first]

    time.sleep(0.6)
    assert _ids(client) == [second, first]


def test_the_order_of_the_parameters_does_not_split_the_cache(client, city, cache_on):
    first = submit("pothole").id
    assert _ids(client, "?service_code=pothole&status=open") == [first]
    submit("pothole")
    assert _ids(client, "?status=open&service_code=pothole") == [first]


def test_answers_longer_than_the_budget_are_not_kept(client, city, cache_on):
    cache_on["OPEN311_FEED_CACHE_CHARS"] = 100  # shorter than one request's JSON
    first = submit("pothole").id
    assert _ids(client) == [first]
    second = submit("pothole").id
    assert _ids(client) == [second, first]


def test_the_oldest_answers_go_first_when_the_budget_is_spent(client, city, cache_on):
    first = submit("pothole").id
    one_answer = len(client.get(f"{BASE}/requests.json").get_data(as_text=True))
    cache_on["OPEN311_FEED_CACHE_CHARS"] = int(one_answer * 1.5)  # room for one answer
    feed_cache.clear()
    assert _ids(client) == [first]  # kept
    assert _ids(client, "?status=open") == [first]  # kept, and the answer above goes
    second = submit("pothole").id
    assert _ids(client, "?status=open") == [first]  # from memory
    assert _ids(client) == [second, first]  # afresh

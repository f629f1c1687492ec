"""GET requests answered from a process's memory for OPEN311_FEED_CACHE_SECONDS: how stale the
feed may be, which queries share an answer, and the bound on the memory it takes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from app.open311 import feed_cache
from app.open311.queries import RequestQuery
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


def test_while_one_thread_computes_an_answer_anew_the_others_get_the_last_one(app, cache_on):
    """Every thread of a process computing the same page when it expired made the feed's
    slowest moments: one computes it, the others answer with the one it replaces."""
    query = RequestQuery(statuses=["open"])
    started, release = threading.Event(), threading.Event()
    computed: list[str] = []

    def compute(answer: str, wait: bool = False) -> Callable[[RequestQuery], str]:
        def run(_query: RequestQuery) -> str:
            computed.append(answer)
            if wait:
                started.set()
                assert release.wait(10)
            return answer

        return run

    with app.app_context():
        assert feed_cache.cached_requests(query, compute("first")) == "first"
    time.sleep(0.6)  # older than the setting
    got: list[str] = []

    def slow_refresh() -> None:
        with app.app_context():
            got.append(feed_cache.cached_requests(query, compute("second", wait=True)))

    refresher = threading.Thread(target=slow_refresh)
    refresher.start()
    assert started.wait(10)
    with app.app_context():
        # asked meanwhile: the answer being replaced, at once, and nothing computed again
        assert feed_cache.cached_requests(query, compute("not wanted")) == "first"
        assert feed_cache.cached_requests(query, compute("not wanted")) == "first"
    release.set()
    refresher.join(10)
    assert got == ["second"]
    assert computed == ["first", "second"]
    with app.app_context():
        assert feed_cache.cached_requests(query, compute("not wanted")) == "second"


def test_a_failed_refresh_lets_the_next_caller_compute(app, cache_on):
    query = RequestQuery(statuses=["open"])

    def fail(_query: RequestQuery) -> str:
        raise RuntimeError("the database went away")

    with app.app_context():
        assert feed_cache.cached_requests(query, lambda _q: "first") == "first"
        time.sleep(0.6)
        with pytest.raises(RuntimeError):
            feed_cache.cached_requests(query, fail)
        assert feed_cache.cached_requests(query, lambda _q: "again") == "again"

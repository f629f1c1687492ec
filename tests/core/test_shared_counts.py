"""Counts decided in each process and summed in Redis: what each process may accept, when."""

from __future__ import annotations

import os

import pytest
import redis

from app.core import shared_counts
from app.core.shared_counts import SharedCounts, Window


@pytest.fixture
def url(app) -> str:
    return app.config["REDIS_URL"]


def counter(url: str | None) -> SharedCounts:
    return SharedCounts(url, interval=0.05, options={})


def test_two_processes_share_a_window_once_each_has_synced(url):
    window = Window("LIMITS:test/two/3/1/minute", 3, 60)
    web1, web2 = counter(url), counter(url)
    assert web1.take([window]) is None and web1.take([window]) is None
    web1.sync()
    # web2 has not synced: it knows of no count but its own
    assert web2.take([window]) is None
    web2.sync()  # and now it has heard of web1's two
    assert web2.take([window]) is window
    assert web1.take([window]) is None  # web1 learns of web2's at its next sync only
    web1.sync()
    assert web1.take([window]) is window
    assert int(redis.Redis.from_url(url).get(window.key)) == 4


def test_a_half_full_window_is_read_back_before_this_process_counts_in_it_again(url):
    window = Window("LIMITS:test/watch/4/1/minute", 4, 60)
    web1, web2 = counter(url), counter(url)
    for _ in range(2):
        assert web1.take([window]) is None
    web1.sync()  # 2 of 4: half full, so web1 watches it
    for _ in range(2):
        assert web2.take([window]) is None
    web2.sync()  # 4 of 4 in Redis
    web1.sync()  # nothing of web1's to send, but the watched window is read back
    assert web1.take([window]) is window
    assert int(redis.Redis.from_url(url).get(window.key)) == 4


def test_a_quiet_window_is_not_read_back(url):
    window = Window("LIMITS:test/quiet/10/1/minute", 10, 60)
    web1, web2 = counter(url), counter(url)
    assert web1.take([window]) is None
    web1.sync()  # 1 of 10: this process has room, nothing to watch
    for _ in range(8):
        assert web2.take([window]) is None
    web2.sync()
    web1.sync()
    # web1 still thinks 1: it hears of the others at its own next count (then 10 of 10)
    assert web1.take([window]) is None
    web1.sync()
    assert web1.take([window]) is window


def test_a_request_is_counted_in_all_of_its_windows_or_in_none():
    minute, hour = Window("m", 2, 60), Window("h", 3, 3600)
    local = counter(None)
    assert [local.take([minute, hour]) for _ in range(3)] == [None, None, minute]
    assert local.take([hour]) is None  # the refused request used none of the hour
    assert local.take([hour]) is hour
    assert 3590 <= local.retry_after(hour) <= 3600


def test_pruning_keeps_the_windows_at_their_limit(monkeypatch):
    monkeypatch.setattr(shared_counts, "MAX_KNOWN", 10)
    local = counter(None)
    full = Window("full", 1, 60)
    assert local.take([full]) is None
    for n in range(20):  # many contacts seen once each, as a day's cap holds them
        assert local.take([Window(f"once-{n}", 5, 60)]) is None
    assert local.take([full]) is full  # still known, after the others were forgotten


def test_a_forked_process_counts_and_syncs_on_its_own(url):
    window = Window("LIMITS:test/fork/10/1/minute", 10, 60)
    # its background sync waits a minute to gather a batch: the parent's count stays pending
    # however long the fork takes (at 0.05 s, a slow machine's parent sent it meanwhile)
    parent = SharedCounts(url, interval=60, options={})
    assert parent.take([window]) is None
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child, as gunicorn forks its workers
        try:
            ok = parent.take([window]) is None
            parent.sync()
            os.write(write, b"ok" if ok else b"no")
        finally:
            os._exit(0)
    os.close(write)
    assert os.read(read, 2) == b"ok"
    os.waitpid(pid, 0)
    # the child's count is in Redis; the parent's pending one is the parent's to send
    assert int(redis.Redis.from_url(url).get(window.key)) == 1

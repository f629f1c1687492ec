"""The answers of GET requests kept per process for OPEN311_FEED_CACHE_SECONDS.

Open311 apps and city dashboards poll the same few lists (the default 90 days, one type's
open requests) many times a second; each answer is up to a thousand rows turned into
JSON by PostgreSQL, tens of milliseconds of database CPU. A process that answered a query
answers it again from memory until the entry is that many seconds old, so a new or
changed request shows in the feed at most that late (and the time one answer takes to
compute: while one thread of the process computes an answer anew, the others asking for it
get the one it replaces, instead of computing it too; a 5-second pulse of every such thread
computing the same thousand rows at once was the soak's slowest seconds, bench/README.md).
The key is the query as read
(`RequestQuery`), so the order or spelling of the parameters does not split the cache, and
JSON and XML share an entry. Memory is bounded by OPEN311_FEED_CACHE_CHARS per process (the
length of the texts kept), the oldest entries going first; 0 seconds turns the cache off.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import astuple

from flask import current_app

from app.open311.queries import RequestQuery


class FeedCache:
    """Answers by query, the oldest dropped first once their text passes `budget` characters."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        #: key -> (monotonic time it was computed, JSON text); oldest first
        self.entries: OrderedDict[Hashable, tuple[float, str]] = OrderedDict()
        self.size = 0
        #: the keys whose answer a thread is computing anew
        self.refreshing: set[Hashable] = set()

    def get(self, key: Hashable, ttl: float, now: float) -> tuple[str | None, bool]:
        """Return the answer to give, and whether the caller is to compute it anew.

        An answer older than `ttl` is given to all but the first caller that finds it so,
        while that one computes its successor (then `done` must follow).
        """
        with self.lock:
            hit = self.entries.get(key)
            if hit is None:
                return None, False
            if now - hit[0] < ttl or key in self.refreshing:
                return hit[1], False
            self.refreshing.add(key)
            return None, True

    def done(self, key: Hashable) -> None:
        """Say that the answer of `key` is computed, or could not be."""
        with self.lock:
            self.refreshing.discard(key)

    def keep(self, key: Hashable, at: float, text: str, budget: int) -> None:
        if len(text) > budget:
            return
        with self.lock:
            old = self.entries.pop(key, None)
            if old is not None:
                self.size -= len(old[1])
            self.entries[key] = (at, text)
            self.size += len(text)
            while self.size > budget:
                _, (_, dropped) = self.entries.popitem(last=False)
                self.size -= len(dropped)


def _cache() -> FeedCache:
    # one per app (and so per process): never shared between two apps' databases
    cache = current_app.extensions.get("city311_feed_cache")
    if cache is None:
        cache = current_app.extensions.setdefault("city311_feed_cache", FeedCache())
    return cache


def _key(query: RequestQuery) -> Hashable:
    return tuple(tuple(v) if isinstance(v, list) else v for v in astuple(query))


def cached_requests(query: RequestQuery, compute: Callable[[RequestQuery], str]) -> str:
    """Return `compute(query)`, or its text from the last OPEN311_FEED_CACHE_SECONDS."""
    config = current_app.config
    ttl = float(config["OPEN311_FEED_CACHE_SECONDS"])
    if ttl <= 0:
        return compute(query)
    cache, key, now = _cache(), _key(query), time.monotonic()
    text, refreshes = cache.get(key, ttl, now)
    if text is not None:
        return text
    try:
        # computed outside the lock: a slow query must not hold up the answers already kept
        text = compute(query)
        cache.keep(key, now, text, int(config["OPEN311_FEED_CACHE_CHARS"]))
    finally:
        if refreshes:
            cache.done(key)
    return text


def clear() -> None:
    """Forget every answer this process keeps for the current app."""
    current_app.extensions.pop("city311_feed_cache", None)

"""Rollup reads are kept until the rollups next change: the same figures again without
re-reading, and the new figures as soon as a refresh has run."""

from __future__ import annotations

from datetime import timedelta

from app.metrics import cache, filters, kpis, rollup
from tests.metrics.conftest import at_noon, make


def test_a_read_is_served_again_until_the_next_refresh(history):
    rollup.refresh()
    f = filters.parse({"from": history.first.isoformat()})
    first = kpis.by_group(f, "department")
    again = kpis.by_group(f, "department")
    assert again.totals.volume == first.totals.volume == 9
    assert again.totals.median_hours_to_close == first.totals.median_hours_to_close

    # a new request closed fast: not in the rollups (nor the figures) until they refresh
    make("pothole", at_noon(history.first + timedelta(days=5)), ack=1, close=1)
    assert kpis.by_group(f, "department").totals.volume == 9
    rollup.refresh()
    fresh = kpis.by_group(f, "department")
    assert fresh.totals.volume == 10 and fresh.totals.closed_counted == 4
    assert fresh.totals.median_hours_to_close < first.totals.median_hours_to_close
    assert kpis.trend(f, "week")[0].volume + sum(r.volume for r in kpis.trend(f, "week")[1:]) == 10


def test_the_cache_is_bounded(history, monkeypatch):
    rollup.refresh()
    monkeypatch.setattr(cache, "MAX_ENTRIES", 2)
    cache.clear()
    for days in (10, 11, 12):
        kpis.by_group(
            filters.parse({"from": (history.today - timedelta(days=days)).isoformat()}), "channel"
        )
    assert len(cache._entries) == 2

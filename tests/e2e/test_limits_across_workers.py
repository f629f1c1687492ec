"""Intake's rate limits in gunicorn: each worker decides, and the counts meet in Redis."""

from __future__ import annotations

import time

import httpx
import redis

from tests.e2e.conftest import E2E_REDIS, running_stack
from tests.factories import WARD_1_POINT

REPORT = {
    "service_code": "pothole",
    "description": "A hole",
    "lat": WARD_1_POINT[0],
    "long": WARD_1_POINT[1],
}


def test_an_address_limit_holds_across_workers_and_its_count_reaches_redis(
    smtp_server, tmp_path_factory
):
    with running_stack(smtp_server, tmp_path_factory, {"RATELIMIT_REPORT": "6/minute"}) as stack:
        codes, refusals = [], []
        for _ in range(10):
            # a new connection each time, so that both workers take reports; the pause is
            # longer than a sync (RATELIMIT_SYNC_SECONDS), so each has heard of the other's
            resp = httpx.post(f"{stack.base_url}/api/v1/requests", json=REPORT, timeout=20)
            codes.append(resp.status_code)
            if resp.status_code == 429:
                refusals.append(resp.json()["message"])
            time.sleep(0.2)
        accepted = codes.count(201)
        # the limit's six are taken first; a worker that has not counted in the window yet
        # hears of it only after its first report there, whenever that comes: one more than
        # the limit at most, with two workers, and every other answer a 429
        assert codes[:6] == [201] * 6 and accepted <= 7, (codes, stack.logs())
        assert set(codes[6:]) <= {201, 429}, (codes, stack.logs())
        assert refusals and all("Too many requests" in m for m in refusals)

        # only the workers' background syncs write to Redis: every accepted report is there
        client = redis.Redis.from_url(E2E_REDIS)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            counts = [int(client.get(key)) for key in client.scan_iter("LIMITS:*/report/*")]
            if counts == [accepted]:
                break
            time.sleep(0.1)
        assert counts == [accepted]

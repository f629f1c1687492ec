"""A committed report wakes the worker through PostgreSQL NOTIFY, with no sweep to fall back on."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.conftest import Mailbox
from tests.e2e.conftest import LiveStack, running_stack, token_for
from tests.factories import WARD_1_POINT

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def unswept_stack(smtp_server, tmp_path_factory) -> Iterator[LiveStack]:
    # the sweep runs once as the worker starts, then not for an hour: only the NOTIFY that
    # rides on the report's commit can get its receipt out in time
    with running_stack(smtp_server, tmp_path_factory, {"OUTBOX_SWEEP_SECONDS": "3600"}) as stack:
        yield stack


def test_the_receipt_goes_out_at_once_woken_by_the_commit(unswept_stack, smtp_server):
    mailbox: Mailbox = smtp_server[2]
    mailbox.clear()
    time.sleep(2)  # the worker is up and listening (its start-up sweep is behind it)
    with unswept_stack.client() as http:
        started = time.monotonic()
        resp = http.post(
            "/api/v1/requests",
            json={
                "service_code": "pothole",
                "description": "Deep pothole by the school gate",
                "lat": WARD_1_POINT[0],
                "long": WARD_1_POINT[1],
                "email": "notify.me@example.org",
            },
        )
    assert resp.status_code == 201, resp.text
    [message] = mailbox.wait_for(1, timeout=15)
    waited = time.monotonic() - started
    print(f"\nreceipt delivered {waited:.2f} s after the report was accepted")
    assert message["To"] == "notify.me@example.org"
    assert str(resp.json()["id"]) in message["Subject"]

    # a notice owed by a later change (the closure) wakes the worker the same way
    mailbox.clear()
    token = token_for(unswept_stack, "dispatcher@city.test")
    with unswept_stack.client(token) as http:
        closed = http.post(
            f"/api/v1/requests/{resp.json()['id']}/close",
            json={"reason": "no_action_needed", "note": "Already repaired by the utility."},
        )
    assert closed.status_code == 200, closed.text
    [closure] = mailbox.wait_for(1, timeout=15)
    assert closure["To"] == "notify.me@example.org"
    worker_log = unswept_stack.logs()
    assert "wake-up listener" not in worker_log, worker_log  # it never lost PostgreSQL

"""Open311 as pollers read it: every update of a busy window, updated_after as updated_datetime
says, and the same text in XML and JSON."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert

from app.core.clock import utcnow
from app.extensions import db
from app.requests import service as requests_service
from app.requests.models import RequestEvent
from tests.factories import submit
from tests.open311.conftest import BASE, same_in_both_formats

UPDATES = 1_031  # a 5-day Boston window held this many


def test_pages_of_updates_lose_nothing_past_a_thousand(client, city):
    sr = submit()
    now = utcnow()
    db.session.execute(
        insert(RequestEvent),
        [
            {
                "request_id": sr.id,
                "kind": "note",
                "at": now - timedelta(seconds=UPDATES - i),
                "note": f"Update {i}",
                "public": True,
                "data": {},
            }
            for i in range(UPDATES)
        ],
    )
    window = {
        "start_date": (now - timedelta(hours=1)).isoformat(),
        "end_date": (now + timedelta(hours=1)).isoformat(),
    }
    seen: list[str] = []
    page = 1
    while True:
        got = client.get(
            f"{BASE}/servicerequestupdates.json", query_string={**window, "page": page}
        ).get_json()
        seen += [u["description"] for u in got if u["description"].startswith("Update ")]
        if len(got) < 1000:
            break
        page += 1
    assert page == 2
    assert seen == [f"Update {i}" for i in range(UPDATES)]  # oldest first, each once
    small = client.get(
        f"{BASE}/servicerequestupdates.json",
        query_string={**window, "page": 3, "page_size": 500},
    ).get_json()
    assert [u["description"] for u in small] == [f"Update {i}" for i in range(1000, UPDATES)]


def test_bad_paging_of_updates_is_400(client, city):
    for query in ({"page": "0"}, {"page": "x"}, {"page_size": "1001"}):
        resp = client.get(f"{BASE}/servicerequestupdates.json", query_string=query)
        assert resp.status_code == 400, query


def test_updated_after_agrees_with_updated_datetime(client, city):
    closed = submit(requested_at=utcnow() - timedelta(days=10))
    requests_service.close(closed, reason="fixed", actor_id=None, note="Filled.")
    closed.closed_at = utcnow() - timedelta(days=3)  # closed days ago ...
    # ... and noted on today: its updated time moves, not its close time
    requests_service.add_note(closed, actor_id=None, note="Asked again", public=False)
    db.session.flush()
    after = utcnow() - timedelta(days=1)
    found = client.get(
        f"{BASE}/requests.json", query_string={"updated_after": after.isoformat()}
    ).get_json()
    assert str(closed.id) in [r["service_request_id"] for r in found]
    for item in found:
        assert datetime.fromisoformat(item["updated_datetime"]) >= after.replace(microsecond=0)


def test_line_ends_and_control_characters_read_the_same_in_xml_and_json(client, city):
    sr = submit(description="First line\r\nsecond line\rthird\x07 bell\x1b esc\ttab")
    (item,) = same_in_both_formats(client, f"{BASE}/requests/{sr.id}")
    assert item["description"] == "First line\nsecond line\nthird bell esc\ttab"

"""Imported history: an unknown location shows everywhere a request does; old rows stay quiet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.extensions import db
from app.notifications import digest
from app.requests.importer import HistoricalRequest, import_requests
from tests.factories import submit
from tests.helpers import bearer, sign_in


def unlocated_open_pothole() -> int:
    [request_id] = import_requests(
        [
            HistoricalRequest(
                service_code="pothole",
                description="Pothole somewhere on Main St",
                lat=None,
                long=None,
                address="Main St",
                requested_at=datetime(2011, 7, 1, 9, 30, tzinfo=UTC),
                import_source="boston",
                external_id="101000295613",
            )
        ]
    ).ids
    db.session.commit()
    return request_id


def test_pages_apis_and_feed_show_an_unknown_location(client, city, tokens):
    request_id = unlocated_open_pothole()

    page = client.get(f"/requests/{request_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Location unknown" in text and 'id="map"' not in text

    data = client.get(f"/api/v1/requests/{request_id}").get_json()
    assert (data["lat"], data["long"], data["district"]) == (None, None, None)

    feed = client.get(f"/open311/v2/requests/{request_id}.json")
    assert feed.status_code == 200, feed.get_data(as_text=True)
    assert (feed.get_json()[0]["lat"], feed.get_json()[0]["long"]) == (None, None)

    queue = client.get(
        "/api/v1/departments/PWD/queue",
        headers=bearer(tokens["dispatcher"]),
        query_string={"include_imported": "true"},
    )
    assert [(i["id"], i["lat"], i["imported"]) for i in queue.get_json()] == [
        (request_id, None, True)
    ]

    sign_in(client, city.users["dispatcher"])
    detail = client.get(f"/staff/requests/{request_id}")
    assert detail.status_code == 200
    assert "Location unknown (imported history)" in detail.get_data(as_text=True)
    dispatch = client.get("/dispatch?include_imported=true")
    assert dispatch.status_code == 200
    row = dispatch.get_data(as_text=True).split(f'data-id="{request_id}"')[1].split(">")[0]
    assert "data-lat" not in row


def test_imported_history_stays_out_of_the_overdue_digest(city):
    """Imported rows keep the city's channel ("phone"), yet years-old open ones are no one's
    overdue work today."""
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    [old] = import_requests(
        [
            HistoricalRequest(
                service_code="pothole",
                description="Open since 2011",
                lat=42.32,
                long=-71.08,
                requested_at=datetime(2011, 7, 1, 9, 30, tzinfo=UTC),
                channel="phone",
                import_source="boston",
                external_id="1",
            )
        ]
    ).ids
    live = submit("pothole")
    live.due_at = now - timedelta(days=1)
    db.session.flush()
    found = digest.compose(city.public_works, now.date(), now)
    assert [item.id for item in found.items] == [live.id]
    assert found.overdue == 1 and old != live.id

"""History with its location unknown: every page, API and feed that shows a request copes."""

from __future__ import annotations

from datetime import UTC, datetime

from app.extensions import db
from app.requests.importer import HistoricalRequest, import_requests
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

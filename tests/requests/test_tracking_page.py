"""The public tracking page, read in one statement: the history, the photos, the privacy rules."""

from __future__ import annotations

import io
import re

from app.extensions import db
from app.media import service as media
from app.requests import service
from app.requests.tracking import tracked_request
from tests.factories import jpeg_bytes, submit
from tests.requests.test_api import PII


def photo(kind: str, request_id: int | None = None) -> int:
    validated = media.validate_photo(io.BytesIO(jpeg_bytes()))
    return media.attach_photo(validated, kind=kind, request_id=request_id).id


def thumbs(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<img src="/photos/(\d+)/thumb\.jpg"', page)]


def test_the_page_shows_the_public_history_and_photos_in_the_staff_order(client, city):
    sr = submit("streetlight", description="Light out all week", **PII)
    reported = photo("report", sr.id)
    service.acknowledge(sr, actor_id=None, note="On our list")
    public_pics = [media.validate_photo(io.BytesIO(jpeg_bytes())) for _ in range(2)]
    service.add_note(sr, actor_id=None, note="Pole is leaning too", public=True, photos=public_pics)
    service.add_note(
        sr,
        actor_id=None,
        note="Ask the crew about the ladder",
        public=False,
        photos=[media.validate_photo(io.BytesIO(jpeg_bytes()))],
    )
    fix = photo("after")
    service.close(sr, reason="fixed", actor_id=None, note="New bulb fitted", photo_id=fix)
    db.session.commit()

    page = client.get(f"/requests/{sr.id}").get_data(as_text=True)

    # the history a resident may read, oldest first; the internal note is not there
    history = page[page.index('id="history-heading"') :]
    steps = [history.index(s) for s in ("On our list", "Pole is leaning too", "New bulb fitted")]
    assert steps == sorted(steps)
    assert "Ask the crew about the ladder" not in page
    # the photos: the report's, each public note's, the fix's, in the staff page's order
    # (queries.photo_order), without the internal note's
    public_ids = service.public_photo_ids(sr)
    assert thumbs(page) == public_ids
    assert public_ids[0] == reported and fix in public_ids and len(public_ids) == 4
    internal = [pid for pid, kind in service.request_photos(sr, private=True) if kind == "internal"]
    assert internal and not set(internal) & set(thumbs(page))
    for value in PII.values():
        assert value not in page


def test_the_page_costs_one_statement(client, city, statements):
    sr = submit("pothole", description="Deep one", **PII)
    service.add_note(sr, actor_id=None, note="Seen it", public=True)
    db.session.commit()
    client.get(f"/requests/{sr.id}")  # the app's first view may load what it caches

    with statements() as seen:
        resp = client.get(f"/requests/{sr.id}")
    assert resp.status_code == 200 and "Seen it" in resp.get_data(as_text=True)
    assert len(seen) == 1, seen


def test_the_read_keeps_the_public_rules(city, app):
    sr = submit("pothole", address="12 Elm St", description="Big", **PII)
    db.session.commit()
    with app.test_request_context():
        tracked = tracked_request(sr.id)
    assert (tracked.service_name, tracked.department_name) == (
        sr.service_type.name,
        sr.department.name,
    )
    assert tracked.district_name == sr.district.name and tracked.address == "12 Elm St"
    assert [e.kind for e in tracked.events] == ["created"]
    assert tracked.events[0].at == sr.requested_at
    assert tracked.lat is not None and tracked.due_at == sr.due_at
    # nothing of the reporter is carried at all
    assert not {v for v in vars(tracked).values() if isinstance(v, str)} & set(PII.values())

"""The whole 311 loop through the HTTP API, with gunicorn, a real rq worker and real SMTP."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from tests.e2e.conftest import LiveStack, token_for
from tests.factories import WARD_2_POINT, jpeg_bytes

pytestmark = pytest.mark.e2e


def _attachments(message):
    return [part for part in message.walk() if part.get_content_disposition() == "attachment"]


def _wait_for_mail(mailbox, to: str, subject_part: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for msg in list(mailbox.messages):
            if msg["To"] and to in msg["To"] and subject_part.lower() in msg["Subject"].lower():
                return msg
        time.sleep(0.2)
    raise AssertionError(
        f"no mail to {to} with {subject_part!r}; got {[m['Subject'] for m in mailbox.messages]}"
    )


def test_resident_to_fix_photo_and_kpis(live_stack: LiveStack, mailbox):
    resident = "resident@example.org"

    # 1. A resident reports a pothole from a phone, with a photo that carries GPS metadata.
    with live_stack.client() as http:
        resp = http.post(
            "/api/v1/requests",
            data={
                "service_code": "pothole",
                "description": "Deep pothole in the bike lane",
                "lat": str(WARD_2_POINT[0]),
                "long": str(WARD_2_POINT[1]),
                "email": resident,
                "name": "Rae Resident",
            },
            files={"photo": ("pothole.jpg", jpeg_bytes(gps=True), "image/jpeg")},
        )
    assert resp.status_code == 201, resp.text
    created = resp.json()
    request_id = created["id"]
    assert created["department"]["code"] == "PWD"
    assert created["district"]["code"] == "2"
    assert created["status"] == "new"

    receipt = _wait_for_mail(mailbox, resident, str(request_id))
    assert f"/requests/{request_id}" in receipt.get_body(("plain",)).get_content()

    # 2. The dispatcher sees it in the department queue and sends crew A.
    dispatcher = token_for(live_stack, "dispatcher@city.test")
    with live_stack.client(dispatcher) as http:
        queue = http.get("/api/v1/departments/PWD/queue")
        assert queue.status_code == 200, queue.text
        assert request_id in [item["id"] for item in queue.json()]
        resp = http.post(
            "/api/v1/workorders",
            json={"request_ids": [request_id], "crew_id": live_stack.city["crew_a"]},
        )
    assert resp.status_code == 201, resp.text
    work_order_id = resp.json()["id"]

    # 3. The crew starts the job and closes it with a completion photo and a note.
    crew = token_for(live_stack, "crew.a@city.test")
    note = "Filled and rolled the pothole."
    with live_stack.client(crew) as http:
        assert http.post(f"/api/v1/workorders/{work_order_id}/start").status_code == 200
        resp = http.post(
            f"/api/v1/workorders/{work_order_id}/complete",
            data={"note": note},
            files={"photo": ("done.jpg", jpeg_bytes((1200, 900), "gray", gps=True), "image/jpeg")},
        )
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "completed"

    # 4. The reporter's mailbox receives the completion email with the photo attached,
    #    sent by the real worker over real SMTP, and the photo has no metadata left.
    done = _wait_for_mail(mailbox, resident, "fixed")
    assert note in done.get_body(("plain",)).get_content()
    photos = _attachments(done)
    assert len(photos) == 1 and photos[0].get_content_type() == "image/jpeg"
    img = Image.open(io.BytesIO(photos[0].get_payload(decode=True)))
    assert img.format == "JPEG"
    assert not img.getexif(), "the photo sent to the reporter must carry no EXIF/GPS"

    # 5. The public view shows the closure without the reporter's personal data.
    with live_stack.client() as http:
        public = http.get(f"/api/v1/requests/{request_id}")
    assert public.status_code == 200
    assert public.json()["status"] == "closed"
    assert public.json()["closure_reason"] == "fixed"
    assert resident not in public.text and "Rae Resident" not in public.text

    # 6. The manager's metrics count it as closed within SLA.
    manager = token_for(live_stack, "manager@city.test")
    with live_stack.client(manager) as http:
        resp = http.get("/api/v1/metrics/response-times", params={"group_by": "department"})
    assert resp.status_code == 200, resp.text
    rows = {row["key"]: row for row in resp.json()["rows"]}
    assert rows["PWD"]["closed"] == 1
    assert rows["PWD"]["pct_closed_within_sla"] == 100.0
    assert rows["PWD"]["open_backlog"] == 0


def test_each_gunicorn_worker_warmed_its_pages_before_taking_traffic(live_stack: LiveStack):
    log = (live_stack.log_dir / "gunicorn.log").read_text(errors="replace")
    warmed = [line for line in log.splitlines() if "Warmed in" in line]
    assert len(warmed) == 2, log[-3000:]  # the stack's two workers
    for line in warmed:
        assert "/ 200" in line and "/open311/v2/requests.json 200" in line, line

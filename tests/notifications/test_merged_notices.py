"""Every reporter of a merged problem hears: of the merge at once, of the fix with the photo.

The requests are merged through the API, closed by a crew's completion with a photo, and the
outbox is drained to the loopback SMTP server, whose mailbox the tests read.
"""

from __future__ import annotations

from io import BytesIO

from PIL import Image

from app.extensions import db
from app.media import service as media
from app.notifications import tasks
from app.workorders import service as workorders
from tests.factories import WARD_1_POINT, jpeg_bytes, submit
from tests.helpers import bearer
from tests.notifications.conftest import parts

NEAR = (WARD_1_POINT[0] + 0.0002, WARD_1_POINT[1])
FIX_NOTE = "Cut out and patched the whole hole."


def sent_to(mailbox, address: str) -> list:
    return [m for m in mailbox.messages if m["To"] == address]


def test_both_reporters_get_the_completion_email_with_the_photo(client, city, tokens, mailbox):
    original = submit(email="first@example.org", description="Pothole outside the bakery")
    dup = submit(point=NEAR, email="second@example.org", description="Big hole near bakery")
    db.session.commit()
    tasks.drain()  # the two receipts
    mailbox.wait_for(2)
    mailbox.clear()

    resp = client.post(
        f"/api/v1/requests/{dup.id}/merge",
        json={"into": original.id, "note": "Same hole"},
        headers=bearer(tokens["agent"]),
    )
    assert resp.status_code == 200, resp.get_json()
    assert tasks.drain() == 1

    # the duplicate's reporter learns of the merge, and is not told anything is fixed
    [merged] = mailbox.wait_for(1)
    assert merged["To"] == "second@example.org"
    assert merged["Subject"] == f"Your request {dup.id} was merged into request {original.id}"
    text, html, attachments = parts(merged)
    assert "fixed" not in merged["Subject"] and not attachments
    assert f"We will email you again when request {original.id} is closed" in text
    assert f"http://city311.test/requests/{original.id}" in text
    assert f"Merged into request {original.id}: Same hole" in text
    assert f"merged your report {dup.id} into it" in html
    mailbox.clear()

    crew_member = city.users["crew"]
    wo = workorders.create_work_order([original.id], city.crew_a.id, actor=city.users["dispatcher"])
    db.session.commit()
    photo = media.validate_photo(BytesIO(jpeg_bytes(gps=True)))
    workorders.complete(wo, actor=crew_member, note=FIX_NOTE, photo=photo)
    db.session.commit()
    assert tasks.drain() == 2

    mailbox.wait_for(2)
    [first] = sent_to(mailbox, "first@example.org")
    [second] = sent_to(mailbox, "second@example.org")
    assert first["Subject"] == f"Your request {original.id} is fixed"
    # the duplicate's reporter reads the number they know, and where the original is
    assert second["Subject"] == f"Your request {dup.id} is fixed"
    for msg in (first, second):
        text, html, attachments = parts(msg)
        assert FIX_NOTE in text
        assert f"http://city311.test/requests/{original.id}" in text
        [photo_part] = attachments
        with Image.open(BytesIO(photo_part.get_payload(decode=True))) as img:
            assert img.format == "JPEG" and not img.getexif()
    second_text = parts(second)[0]
    assert f"Your report {dup.id} was merged into request {original.id}" in second_text
    assert "was merged into" not in parts(first)[0]


def test_one_person_who_reported_twice_gets_one_completion_email(client, city, tokens, mailbox):
    original = submit(email="same@example.org")
    dup = submit(point=NEAR, email="same@example.org")
    other = submit(point=NEAR, email="other@example.org")
    for sr in (dup, other):
        resp = client.post(
            f"/api/v1/requests/{sr.id}/merge",
            json={"into": original.id},
            headers=bearer(tokens["dispatcher"]),
        )
        assert resp.status_code == 200, resp.get_json()
    tasks.drain()
    mailbox.clear()

    wo = workorders.create_work_order([original.id], city.crew_a.id, actor=city.users["dispatcher"])
    photo = media.validate_photo(BytesIO(jpeg_bytes()))
    workorders.complete(wo, actor=city.users["crew"], note=FIX_NOTE, photo=photo)
    db.session.commit()
    assert tasks.drain() == 2

    mailbox.wait_for(2)
    assert sorted(m["To"] for m in mailbox.messages) == ["other@example.org", "same@example.org"]

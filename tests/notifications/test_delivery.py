"""Delivery jobs send real mail over SMTP to the loopback server and record it."""

from __future__ import annotations

from email import message_from_bytes
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

from app.core.clock import to_city_time
from app.extensions import db
from app.media import service as media
from app.media.models import Photo
from app.notifications import tasks
from tests.notifications.conftest import REPORTER, close_with_photo, outbox_rows, parts, submit


def test_closure_email_carries_the_note_and_a_metadata_free_photo(city, mailbox):
    sr = submit()
    db.session.commit()
    photo_id = close_with_photo(sr, note="Filled with hot asphalt & rolled flat.")
    db.session.commit()
    [row] = outbox_rows(sr.id, "closed")

    assert tasks.deliver(row.id) == "sent"

    [msg] = mailbox.wait_for(1)
    assert mailbox.envelopes[0][1] == [REPORTER]
    assert msg["Subject"] == f"Your request {sr.id} is fixed"
    assert msg["To"] == REPORTER
    assert msg["X-City311-Outbox"] == str(row.id)
    assert msg["Message-ID"].startswith(f"<city311.outbox.{row.id}.")
    text, html, attachments = parts(msg)
    assert "Filled with hot asphalt & rolled flat." in text
    assert "Filled with hot asphalt &amp; rolled flat." in html
    assert f"http://city311.test/requests/{sr.id}" in text
    assert f'href="http://city311.test/requests/{sr.id}"' in html

    [attachment] = attachments
    assert attachment.get_content_type() == "image/jpeg"
    data = attachment.get_payload(decode=True)
    with Image.open(BytesIO(data)) as img:
        assert img.format == "JPEG"
        assert not img.getexif()
        assert "exif" not in img.info
    # the stored original did carry GPS: the email must not be a copy of it
    photo = db.session.get(Photo, photo_id)
    with Image.open(BytesIO(media.read_original(photo.stored_name) or b"")) as original:
        assert original.getexif().get_ifd(0x8825)
    assert b"PhoneMaker" not in data

    db.session.refresh(row)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, "")
    assert row.sent_at is not None


def test_a_second_delivery_of_a_sent_row_sends_nothing(city, mailbox):
    sr = submit()
    db.session.commit()
    close_with_photo(sr)
    db.session.commit()
    [row] = outbox_rows(sr.id, "closed")
    assert tasks.deliver(row.id) == "sent"
    assert tasks.deliver(row.id) == "skipped"
    assert len(mailbox.wait_for(1, timeout=0.5)) == 1
    db.session.refresh(row)
    assert row.attempts == 1


def test_receipt_email_has_the_number_expected_time_and_tracking_link(city, mailbox):
    sr = submit(description="Deep pothole in the bike lane " + "x" * 400)
    db.session.commit()
    [row] = outbox_rows(sr.id, "receipt")

    assert tasks.deliver(row.id) == "sent"

    [msg] = mailbox.wait_for(1)
    assert msg["Subject"] == f"We received your report {sr.id}: Pothole"
    text, html, attachments = parts(msg)
    assert attachments == []
    assert f"Request number: {sr.id}" in text
    assert f"http://city311.test/requests/{sr.id}" in text
    assert f'href="http://city311.test/requests/{sr.id}"' in html
    assert "12 Elm Street" in text and "Public Works" in text
    local_due = to_city_time(sr.due_at)
    assert local_due.strftime("%b %d, %Y at %I:%M %p %Z") in text
    assert "x" * 400 not in text  # an excerpt, not the whole description
    # the reporter's own phone number and name are not repeated back
    assert "555-0100" not in text and "Jane Resident" not in text


@pytest.mark.parametrize(
    "reason, phrase",
    [("could_not_locate", "could not be found"), ("referred", "referred to another agency")],
)
def test_a_closure_that_is_not_a_fix_says_so(city, mailbox, reason, phrase):
    sr = submit()
    db.session.commit()
    close_with_photo(sr, reason=reason, note="Nothing at the address given.")
    db.session.commit()
    [row] = outbox_rows(sr.id, "closed")
    tasks.deliver(row.id)
    [msg] = mailbox.wait_for(1)
    assert phrase in msg["Subject"]
    assert "fixed" not in msg["Subject"]
    assert "Nothing at the address given." in parts(msg)[0]


def test_without_smtp_host_mail_is_written_as_eml_files(city, restore_config, mailbox):
    sr = submit()
    db.session.commit()
    [row] = outbox_rows(sr.id, "receipt")
    restore_config["SMTP_HOST"] = None

    assert tasks.deliver(row.id) == "sent"

    [path] = Path(restore_config["MAIL_OUTBOX_DIR"]).glob(f"*-outbox-{row.id}.eml")
    msg = message_from_bytes(path.read_bytes())
    assert msg["To"] == REPORTER
    assert str(sr.id) in msg["Subject"]
    assert mailbox.messages == []

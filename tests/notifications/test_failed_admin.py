"""Claimed rows are sent once; failed rows are listed for admins, who can resend them."""

from __future__ import annotations

from datetime import timedelta

from app.core.clock import utcnow
from app.extensions import db
from app.notifications import tasks
from tests.conftest import free_port
from tests.helpers import sign_in
from tests.notifications.conftest import outbox_rows, submit


def fail_receipt(restore_config) -> object:
    sr = submit()
    db.session.commit()
    [row] = outbox_rows(sr.id, "receipt")
    real_port = restore_config["SMTP_PORT"]
    restore_config["OUTBOX_MAX_ATTEMPTS"] = 1
    restore_config["SMTP_PORT"] = free_port()  # nothing listens there
    assert tasks.deliver(row.id) == "failed"
    restore_config["SMTP_PORT"] = real_port
    restore_config["OUTBOX_MAX_ATTEMPTS"] = 8
    db.session.refresh(row)
    return row


def test_a_row_being_sent_is_not_sent_by_another_worker(city, mailbox):
    sr = submit()
    db.session.commit()
    [row] = outbox_rows(sr.id, "receipt")
    row.status = "sending"  # claimed by a worker that is still within its lease
    row.next_attempt_at = utcnow() + timedelta(seconds=30)
    db.session.commit()
    assert tasks.deliver(row.id) == "skipped"
    assert tasks.sweep_outbox() == 0
    assert mailbox.messages == []


def test_a_row_abandoned_while_sending_is_sent_after_its_lease(city, mailbox):
    sr = submit()
    db.session.commit()
    [row] = outbox_rows(sr.id, "receipt")
    row.status, row.attempts = "sending", 1  # its worker died after claiming it
    row.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert tasks.due_ids(10) == [row.id]
    assert tasks.deliver(row.id) == "sent"
    [msg] = mailbox.wait_for(1)
    assert msg["X-City311-Outbox"] == str(row.id)
    db.session.refresh(row)
    assert (row.status, row.attempts) == ("sent", 2)


def test_flask_outbox_failed_lists_and_resend_delivers(app, city, mailbox, restore_config):
    row = fail_receipt(restore_config)
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["outbox", "failed"])
    assert listed.exit_code == 0
    line = next(ln for ln in listed.output.splitlines() if ln.startswith(f"{row.id}\t"))
    assert f"receipt\t{row.request_id}\tresident@example.org\t1\t" in line
    assert "Connection refused" in line or "Errno" in line

    again = runner.invoke(args=["outbox", "resend", str(row.id)])
    assert again.exit_code == 0, again.output
    db.session.refresh(row)
    assert (row.status, row.attempts) == ("pending", 0)
    assert tasks.deliver(row.id) == "sent"
    assert len(mailbox.wait_for(1)) == 1
    assert "No failed messages." in runner.invoke(args=["outbox", "failed"]).output
    refused = runner.invoke(args=["outbox", "resend", str(row.id)])
    assert refused.exit_code != 0
    assert "is sent, not failed" in refused.output


def test_the_admin_page_lists_failed_messages_and_resends_one(client, city, restore_config):
    row = fail_receipt(restore_config)
    sign_in(client, city.users["admin"])
    page = client.get("/admin/outbox")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "resident@example.org" in html and f"/admin/outbox/{row.id}/resend" in html

    done = client.post(f"/admin/outbox/{row.id}/resend", follow_redirects=True)
    assert done.status_code == 200
    assert f"Message {row.id} to resident@example.org is queued again." in done.get_data(
        as_text=True
    )
    db.session.refresh(row)
    assert row.status == "pending"
    assert "No failed messages." in client.get("/admin/outbox").get_data(as_text=True)


def test_the_admin_page_is_for_admins_and_needs_the_csrf_token(client, city, restore_config):
    row = fail_receipt(restore_config)
    sign_in(client, city.users["manager"])
    assert client.get("/admin/outbox").status_code == 403
    assert client.post(f"/admin/outbox/{row.id}/resend").status_code == 403
    sign_in(client, city.users["admin"])
    restore_config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/admin/outbox/{row.id}/resend").status_code == 400
    db.session.refresh(row)
    assert row.status == "failed"

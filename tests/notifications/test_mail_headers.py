"""The headers of a notice as written on the wire: RFC 5322/2047/2369, whatever the names."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from app.extensions import db
from app.notifications import mail, tasks
from app.notifications.mime_policy import notice_policy
from app.notifications.models import Outbox
from tests.notifications.conftest import REPORTER, outbox_rows, parts, submit

SENDER = "Ciudad de Peñalolén 311 <no-reply@city311.test>"
CATEGORY = "Señal de tráfico dañada"


def _wire(msg) -> bytes:
    # what smtplib.send_message writes: the message's own policy, CRLF line ends
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def test_non_ascii_sender_name_and_subject_are_encoded_and_read_back(city, restore_config, mailbox):
    restore_config["MAIL_FROM"] = SENDER
    sr = submit()
    sr.service_type.name = CATEGORY
    db.session.commit()
    [row] = outbox_rows(sr.id, "receipt")

    assert tasks.deliver(row.id) == "sent"

    [msg] = mailbox.wait_for(1)  # parsed back with policy.default
    assert msg["From"] == SENDER
    assert msg["From"].addresses[0].display_name == "Ciudad de Peñalolén 311"
    assert msg["From"].addresses[0].addr_spec == "no-reply@city311.test"
    assert msg["To"] == REPORTER
    # the envelope is the address of each, without the display name
    assert mailbox.envelopes == [("no-reply@city311.test", [REPORTER])]
    assert CATEGORY in msg["Subject"] and str(sr.id) in msg["Subject"]
    assert msg["Message-ID"] == f"<city311.outbox.{row.id}.receipt.{sr.id}@city311.test>"
    text, html, _ = parts(msg)
    assert CATEGORY in text and CATEGORY in html


def test_every_header_line_is_ascii_folded_and_list_unsubscribe_is_one_url(
    app, city, restore_config
):
    restore_config["MAIL_FROM"] = SENDER
    sr = submit()
    sr.service_type.name = CATEGORY
    db.session.commit()
    row = Outbox(
        id=7, event="receipt", request_id=sr.id, recipient=REPORTER, channel="email", payload={}
    )
    wire = _wire(mail.build_message(row))

    head = wire.split(b"\r\n\r\n", 1)[0].decode("ascii")  # raises on a raw non-ASCII byte
    lines = head.split("\r\n")
    unsubscribe = [line for line in lines if line.startswith("List-Unsubscribe:")]
    # RFC 2369: a <URL> as it is; an encoded word there is not read by mail clients
    assert len(unsubscribe) == 1 and unsubscribe[0].startswith("List-Unsubscribe: <http")
    assert "=?" not in unsubscribe[0]
    assert all(len(line) <= 78 for line in lines if not line.startswith("List-Unsubscribe:"))
    assert "=?utf-8?" in head  # the sender's name and the subject, RFC 2047 encoded words


def test_a_line_break_in_a_header_value_is_refused(app, city):
    sr = submit()
    db.session.commit()
    row = Outbox(
        id=8,
        event="receipt",
        request_id=sr.id,
        recipient=f"{REPORTER}\r\nBcc: victim@example.org",
        channel="email",
        payload={},
    )
    with pytest.raises(ValueError):
        mail.build_message(row)


@pytest.mark.parametrize(
    "to",
    [
        "o'brien+311@mail.example.org",
        "Resident <resident@example.org>",
        '"Doe, Jane" <jane@example.org>',
        "a" * 70 + "@example.org",
    ],
)
def test_an_address_header_is_written_as_the_default_policy_writes_it(to):
    ours, theirs = EmailMessage(policy=notice_policy), EmailMessage(policy=policy.default)
    for msg in (ours, theirs):
        msg["To"] = to
        msg.set_content("x")
    assert _wire(ours) == _wire(theirs)
    assert ours["To"].addresses == theirs["To"].addresses


def test_a_non_ascii_subject_reads_back_as_written_wherever_it_is_folded():
    # the default policy dropped the space at a fold between two encoded words: with report
    # number 63519 "Señal de tráfico dañada" read back "Señal de tráficodañada"
    for number in range(1, 10**7, 9_973):
        subject = f"We received your report {number}: {CATEGORY}"
        msg = EmailMessage(policy=notice_policy)
        msg["Subject"] = subject
        msg.set_content("x")
        wire = _wire(msg)
        head = wire.split(b"\r\n\r\n", 1)[0].decode("ascii")
        assert all(len(line) <= 78 for line in head.split("\r\n"))
        assert message_from_bytes(wire, policy=policy.default)["Subject"] == subject, number

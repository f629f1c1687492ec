"""Once the SMTP server has accepted a message, a failed goodbye never sends it again."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from app.extensions import db
from app.notifications import mail, tasks
from tests.conftest import Mailbox, running_smtp
from tests.notifications.conftest import outbox_rows, submit


class AcceptsThenFailsQuit(Mailbox):
    """Accepts every message, then answers QUIT with an error or hangs up instead."""

    def __init__(self, quit_mode: str) -> None:
        super().__init__()
        self.quit_mode = quit_mode

    async def handle_QUIT(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook name)
        if self.quit_mode == "hang-up":
            server.transport.abort()
        return "421 4.3.2 Service shutting down"


@pytest.fixture(params=["error-reply", "hang-up"])
def flaky_server(request, restore_config) -> Iterator[AcceptsThenFailsQuit]:
    handler = AcceptsThenFailsQuit(request.param)
    with running_smtp(handler) as port:
        restore_config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        yield handler


def test_a_failed_quit_after_the_message_was_accepted_marks_it_sent(city, flaky_server, caplog):
    assert not logging.getLogger(mail.__name__).disabled  # the migrations left it alone
    sr = submit()
    db.session.commit()
    [row] = outbox_rows(sr.id, "receipt")

    assert tasks.deliver(row.id) == "sent"

    db.session.refresh(row)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, "")
    assert "QUIT" in caplog.text  # the goodbye did fail, and was only logged
    [msg] = flaky_server.wait_for(1)
    assert msg["X-City311-Outbox"] == str(row.id)
    # the log names the message the server had taken, for the postmaster to find
    assert f"after {msg['Message-ID']} was accepted" in caplog.text
    # nothing is owed any more: a drain or a sweep sends nothing again
    assert tasks.drain() == 0
    assert tasks.sweep_outbox() == 0
    assert len(flaky_server.messages) == 1

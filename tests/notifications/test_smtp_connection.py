"""A drain sends its messages over one SMTP connection, and copes with one that goes away."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from app.extensions import db
from app.notifications import tasks
from tests.conftest import Mailbox, running_smtp
from tests.notifications.conftest import outbox_rows, submit


class ConnectionsMailbox(Mailbox):
    """Notes which connection (the client's port) each message came on.

    With `hang_up_after`, it closes a connection once that many messages came on it, as
    relays with a per-connection cap do; with `refuse`, it refuses that mailbox for good.
    """

    def __init__(self, hang_up_after: int = 0, refuse: str = "") -> None:
        super().__init__()
        self.peers: list[object] = []
        self.hang_up_after = hang_up_after
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        if address == self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook name)
        self.peers.append(session.peer)
        reply = await super().handle_DATA(server, session, envelope)
        if self.hang_up_after and self.peers.count(session.peer) >= self.hang_up_after:
            # after the reply has gone out: the client has its 250, then finds the line dead
            asyncio.get_running_loop().call_soon(server.transport.close)
        return reply


@pytest.fixture
def server(request, restore_config) -> Iterator[ConnectionsMailbox]:
    handler = ConnectionsMailbox(**getattr(request, "param", {}))
    with running_smtp(handler) as port:
        restore_config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        yield handler


def _owe(count: int, refused: int | None = None) -> list[int]:
    """File `count` requests with an email each; return their receipts' outbox ids."""
    ids = []
    for n in range(count):
        email = "nobody@example.org" if n == refused else f"reporter{n}@example.org"
        sr = submit(email=email)
        ids.append(outbox_rows(sr.id, "receipt")[0].id)
    db.session.commit()
    return ids


def _statuses(ids: list[int]) -> list[str]:
    db.session.expire_all()
    return [row.status for i in ids for row in [db.session.get(tasks.Outbox, i)]]


def test_a_drain_sends_every_receipt_over_one_connection(city, server):
    ids = _owe(6)

    assert tasks.drain() == 6

    assert len(server.wait_for(6)) == 6
    assert len(set(server.peers)) == 1  # one connection for the whole drain
    received = sorted(m["X-City311-Outbox"] for m in server.messages)
    assert received == sorted(map(str, ids))  # each once
    assert _statuses(ids) == ["sent"] * 6


@pytest.mark.parametrize("server", [{"hang_up_after": 2}], indirect=True)
def test_a_server_that_hangs_up_between_messages_gets_a_new_connection(city, server):
    ids = _owe(5)

    assert tasks.drain() == 5  # none waits for a retry

    server.wait_for(5)
    assert len(set(server.peers)) == 3  # 2 + 2 + 1 messages
    assert sorted(m["X-City311-Outbox"] for m in server.messages) == sorted(map(str, ids))
    assert _statuses(ids) == ["sent"] * 5


@pytest.mark.parametrize("server", [{"refuse": "nobody@example.org"}], indirect=True)
def test_a_refused_mailbox_mid_batch_fails_alone_and_the_rest_go_once(city, server):
    ids = _owe(5, refused=2)

    assert tasks.drain() == 4

    server.wait_for(4)
    assert sorted(m["X-City311-Outbox"] for m in server.messages) == sorted(
        str(i) for n, i in enumerate(ids) if n != 2
    )
    assert _statuses(ids) == ["sent", "sent", "failed", "sent", "sent"]

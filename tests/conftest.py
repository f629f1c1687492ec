"""Fixtures on the real stack: PostgreSQL + PostGIS, Redis, and an SMTP server on loopback.

The test database is created afresh for each run and built by the real migrations.
Each test runs in a transaction that is rolled back, so tests see each other's nothing.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path

import psycopg
import pytest
from aiosmtpd.controller import Controller
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g, request_started
from flask.testing import FlaskClient
from flask_migrate import upgrade
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy import event
from sqlalchemy.engine import URL

from app import create_app
from app.auth import service as auth_service
from app.core import limits
from app.extensions import db
from tests import factories


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the translations the pages read, as scripts/lib.sh does (they are not committed)."""
    compile_catalogs()


def compile_catalogs() -> None:
    """Write each catalog's .mo from its .po when missing or older (fuzzy entries left out)."""
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parts[-3])
        partial = mo.with_suffix(f".mo.{os.getpid()}")
        with partial.open("wb") as target:
            write_mo(target, catalog)
        partial.replace(mo)  # atomic: a concurrent run never reads half a file


TRANSLATIONS = Path(__file__).resolve().parents[1] / "app" / "translations"
ADMIN_DSN = os.environ.get(
    "TEST_ADMIN_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
)
TEST_DB = os.environ.get("TEST_DATABASE_NAME", "city311_test")


def db_url(name: str) -> str:
    """Return the SQLAlchemy URL of database `name` on the server of TEST_ADMIN_DSN."""
    info = conninfo_to_dict(ADMIN_DSN)
    return str(
        URL.create(
            "postgresql+psycopg",
            username=info.get("user"),
            password=info.get("password"),
            host=info.get("host"),
            port=int(info["port"]) if info.get("port") else None,
            database=name,
        ).render_as_string(hide_password=False)
    )


TEST_DB_URL = db_url(TEST_DB)


def recreate_database(name: str) -> None:
    """Drop and create a database (PostGIS is enabled by the first migration)."""
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """Messages received by the loopback SMTP server."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook name)
        with self.arrived:
            self.messages.append(
                message_from_bytes(
                    envelope.original_content or envelope.content, policy=policy.default
                )
            )
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int = 1, timeout: float = 20.0) -> list[Message]:
        """Wait until at least `count` messages arrived; return them."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.messages) >= count, timeout=timeout)
        return list(self.messages)

    def clear(self) -> None:
        with self.arrived:
            self.messages.clear()
            self.envelopes.clear()


class SlowMailbox(Mailbox):
    """Takes `delay` seconds per message, as a real relay does, so that sends overlap."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook name)
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


@contextmanager
def running_smtp(handler: object) -> Iterator[int]:
    """Serve an aiosmtpd handler as an SMTP server on a free loopback port; yield the port."""
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[str, int, Mailbox]]:
    mailbox = Mailbox()
    with running_smtp(mailbox) as port:
        yield "127.0.0.1", port, mailbox


@pytest.fixture
def mailbox(smtp_server) -> Mailbox:
    box = smtp_server[2]
    box.clear()
    return box


@pytest.fixture(scope="session")
def app(tmp_path_factory, smtp_server) -> Iterator[Flask]:
    recreate_database(TEST_DB)
    media = tmp_path_factory.mktemp("media")
    app = create_app(
        "test",
        {
            "SQLALCHEMY_DATABASE_URI": TEST_DB_URL,
            "MEDIA_ROOT": str(media),
            "MAIL_OUTBOX_DIR": str(tmp_path_factory.mktemp("mail")),
            "SMTP_HOST": smtp_server[0],
            "SMTP_PORT": smtp_server[1],
        },
    )
    with app.app_context():
        upgrade()  # the real migrations build the schema
        db.engine.dispose()
    yield app
    with app.app_context():
        db.engine.dispose()
    app.extensions["rq"].redis.close()


@pytest.fixture(autouse=True)
def _clean_redis(app: Flask) -> None:
    limits.forget_counts(app)  # what this process counted goes with Redis's counts
    app.extensions["rq"].redis.flushdb()


def _forget_user(sender: Flask, **extra: object) -> None:
    # Test-client requests share the test's app context, so Flask-Login's cached user in
    # `g` would otherwise leak from one request to the next.
    g.pop("_login_user", None)


@contextmanager
def rolled_back(app: Flask) -> Iterator:
    """Hold one outer transaction, rolled back at the end; yield its connection.

    The app's own commits become savepoint releases, so views and services behave as in
    production while nothing outlives the block.
    """
    with app.app_context(), request_started.connected_to(_forget_user, app):
        engine = db.engines[None]
        connection = engine.connect()
        outer = connection.begin()
        # Flask-SQLAlchemy's get_bind() prefers db.engines over the session's own bind
        db.engines[None] = connection
        original = db.session
        db.session = db._make_scoped_session(
            {"bind": connection, "binds": {}, "join_transaction_mode": "create_savepoint"}
        )
        try:
            yield connection
        finally:
            db.session.remove()
            db.session = original
            db.engines[None] = engine
            outer.rollback()
            connection.close()


@pytest.fixture
def db_session(app: Flask) -> Iterator:
    """Run the test inside one outer transaction that is rolled back at the end."""
    with rolled_back(app):
        yield db.session


@pytest.fixture
def restore_config(app: Flask) -> Iterator[dict]:
    """Let a test change app.config; put the old values back afterwards."""
    saved = dict(app.config)
    yield app.config
    app.config.clear()
    app.config.update(saved)


@pytest.fixture
def client(app: Flask, db_session) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def city(db_session) -> factories.City:
    return factories.make_city()


@pytest.fixture
def tokens(city: factories.City) -> dict[str, str]:
    """A bearer token for each role of the test city."""
    return {role: auth_service.issue_token(user) for role, user in city.users.items()}


@pytest.fixture
def statements(db_session) -> Callable[[], AbstractContextManager[list[str]]]:
    """Return a context manager that collects the SQL sent to PostgreSQL while it is open.

    It listens on the engine (before_cursor_execute), so it sees every statement of the
    session, of the views and of the signal receivers, each as the one line it starts with.
    """
    engine = db.session.get_bind().engine

    @contextmanager
    def recording() -> Iterator[list[str]]:
        seen: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany) -> None:
            seen.append(statement.strip().splitlines()[0].strip())

        event.listen(engine, "before_cursor_execute", record)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return recording

"""core.prepared: a rollback undoes the transaction and keeps the prepared statements.

These use the app's real engine (no outer test transaction), since what is tested is what
a connection of its pool does at ROLLBACK.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from flask import Flask
from psycopg import pq
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from app.core.prepared import KeepPreparedConnection, plan_for_each_value
from app.extensions import db
from app.geo import search as geo_search
from app.requests import service
from tests.conftest import TEST_DB_URL

DSN = TEST_DB_URL.replace("postgresql+psycopg://", "postgresql://", 1)
COUNT = text("SELECT count(*) FROM prepared_test_rows WHERE note <> :note")
PREPARED = text("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE :pattern")


@pytest.fixture
def conn(app: Flask) -> Iterator[Connection]:
    """A connection of the app's engine and a table of the test's own."""
    with psycopg.connect(DSN, autocommit=True) as admin:
        admin.execute("CREATE TABLE prepared_test_rows (id serial PRIMARY KEY, note text)")
    try:
        with app.app_context(), db.engine.connect() as connection:
            yield connection
    finally:
        with psycopg.connect(DSN, autocommit=True) as admin:
            admin.execute("DROP TABLE prepared_test_rows")


def prepared_counts(conn: Connection) -> int:
    return int(conn.execute(PREPARED, {"pattern": "%prepared_test_rows WHERE note <>%"}).scalar())


def stored(note: str) -> bool:
    with psycopg.connect(DSN) as other:
        row = other.execute("SELECT count(*) FROM prepared_test_rows WHERE note = %s", (note,))
        return row.fetchone() == (1,)


def test_the_engine_makes_connections_that_keep_their_prepared_statements(conn):
    assert isinstance(conn.connection.driver_connection, KeepPreparedConnection)


def test_read_transactions_ended_by_rollback_run_the_statement_prepared(conn):
    # as read requests do: a statement in a transaction that the session rolls back
    for _ in range(6):
        conn.execute(COUNT, {"note": "x"})
        conn.rollback()
    assert prepared_counts(conn) == 1
    conn.rollback()
    assert prepared_counts(conn) == 1
    # and it is used, not prepared again at each turn
    for _ in range(3):
        conn.execute(COUNT, {"note": "x"})
        conn.rollback()
    assert prepared_counts(conn) == 1


def test_the_rollback_still_undoes_the_transaction(conn):
    conn.execute(text("INSERT INTO prepared_test_rows (note) VALUES ('undone')"))
    conn.rollback()
    assert not stored("undone")
    raw = conn.connection.driver_connection
    assert raw.pgconn.transaction_status == pq.TransactionStatus.IDLE
    conn.execute(text("INSERT INTO prepared_test_rows (note) VALUES ('kept')"))
    conn.commit()
    assert stored("kept")


def test_a_failed_transaction_rolls_back_and_the_connection_goes_on(conn):
    for _ in range(6):
        conn.execute(COUNT, {"note": "x"})
    with pytest.raises(DBAPIError):
        conn.execute(text("SELECT 1 / 0"))
    raw = conn.connection.driver_connection
    assert raw.pgconn.transaction_status == pq.TransactionStatus.INERROR
    conn.rollback()
    assert conn.execute(COUNT, {"note": "x"}).scalar() == 0
    assert prepared_counts(conn) == 1


PLAN_MODE = text("SELECT current_setting('plan_cache_mode')")


@pytest.mark.parametrize(
    ("query", "mode"),
    [
        ("broken streetlight", "force_custom_plan"),
        ("rita@example.org", "auto"),
        ("555 0199", "auto"),
    ],
)
def test_a_search_by_words_is_planned_for_its_patterns(db_session, query, mode):
    # a plan made once for any pattern reads the whole trigram index for a common word;
    # numbers, phones and emails compare equal and keep their prepared plans
    service.search_requests(query)
    assert db_session.execute(PLAN_MODE).scalar() == mode


def test_the_address_search_is_planned_for_the_typed_text(db_session):
    geo_search.search("12 Elm")
    assert db_session.execute(PLAN_MODE).scalar() == "force_custom_plan"


def test_planning_for_each_value_ends_with_the_transaction(app):
    with app.app_context():
        plan_for_each_value()
        assert db.session.execute(PLAN_MODE).scalar() == "force_custom_plan"
        db.session.rollback()
        assert db.session.execute(PLAN_MODE).scalar() == "auto"
        db.session.remove()

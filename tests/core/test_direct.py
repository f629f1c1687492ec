"""core.direct: one statement on the session's connection, as SQLAlchemy would run it, cheaper.

The first tests use the app's real engine-bound session (no outer test transaction), since
what `alone` changes is how the statement commits.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from flask import Flask
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError

from app.core import direct
from app.extensions import db
from app.org.models import Department
from tests.conftest import TEST_DB_URL
from tests.notifications.workers import wait_until

DSN = TEST_DB_URL.replace("postgresql+psycopg://", "postgresql://", 1)
INSERT = text("INSERT INTO direct_test_rows (note) VALUES (:note) RETURNING id, note")
IN_TRANSACTION = text("SELECT now() <> statement_timestamp()")


def stored(note: str) -> bool:
    """Tell whether another connection sees a row with this note: committed."""
    with psycopg.connect(DSN) as conn:
        row = conn.execute("SELECT count(*) FROM direct_test_rows WHERE note = %s", (note,))
        return row.fetchone() == (1,)


@pytest.fixture
def scratch(app: Flask) -> Iterator[None]:
    """A table of the test's own, in the app's context with its engine-bound session."""
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute("CREATE TABLE direct_test_rows (id serial PRIMARY KEY, note text UNIQUE)")
    try:
        with app.app_context():
            yield
            db.session.remove()
    finally:
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute("DROP TABLE direct_test_rows")


def test_alone_the_statement_commits_itself_and_its_connection_returns_to_transactions(scratch):
    returned: list[bool] = []

    def checked_in(dbapi_connection, record) -> None:
        returned.append(dbapi_connection.autocommit)

    event.listen(db.engine, "checkin", checked_in)
    try:
        assert direct.fetch_row(INSERT, {"note": "alone"}, alone=True)[1] == "alone"
        assert stored("alone")  # before anyone commits: the statement was its own transaction
    finally:
        event.remove(db.engine, "checkin", checked_in)
    assert returned == [False]  # back in the pool, the connection makes transactions again
    assert not db.session().in_transaction()  # the caller's commit has nothing to do
    db.session.commit()

    direct.fetch_row(INSERT, {"note": "rolled back"})
    assert db.session.execute(IN_TRANSACTION).scalar() is True
    db.session.rollback()
    assert not stored("rolled back")


def test_alone_joins_a_transaction_already_open(scratch):
    db.session.execute(text("SELECT 1"))  # the unit of work began before intake
    direct.fetch_row(INSERT, {"note": "joined"}, alone=True)
    assert not stored("joined")
    db.session.rollback()
    assert not stored("joined")


def test_without_alone_the_statement_waits_for_the_commit(scratch):
    direct.fetch_row(INSERT, {"note": "waits"})
    assert not stored("waits")
    db.session.commit()
    assert stored("waits")


def test_listeners_on_the_engine_see_the_statement(scratch):
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        direct.fetch_row(INSERT, {"note": "traced"}, alone=True)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert seen == ["INSERT INTO direct_test_rows (note) VALUES (%(note)s) RETURNING id, note"]


def test_a_driver_error_is_sqlalchemys_and_the_session_goes_on_after_a_rollback(scratch):
    direct.fetch_row(INSERT, {"note": "twice"}, alone=True)
    with pytest.raises(DBAPIError) as caught:
        direct.fetch_row(INSERT, {"note": "twice"}, alone=True)
    assert isinstance(caught.value.orig, psycopg.errors.UniqueViolation)
    db.session.rollback()
    assert direct.fetch_row(INSERT, {"note": "after"}, alone=True)[1] == "after"


def test_no_row_is_none(scratch):
    assert direct.fetch_row(text("SELECT 1 WHERE false"), {}) is None


def test_the_sessions_pending_changes_are_written_before_the_statement(db_session, city):
    # inside the test's outer transaction, like every other test of the app
    db.session.add(Department(code="parks", name="Parks"))
    count = direct.fetch_row(
        text("SELECT count(*) FROM departments WHERE code = :code"), {"code": "parks"}
    )
    assert count == (1,)


PID = text("SELECT pg_backend_pid()")


def test_a_kept_connection_commits_each_statement_on_one_connection(scratch):
    kept = direct.KeptConnection(db.engine)
    try:
        first = kept.fetch_rows(INSERT, {"note": "kept one"})
        assert [row[1] for row in first] == ["kept one"]
        assert stored("kept one")  # committed by itself
        assert kept.fetch_rows(PID, {}) == kept.fetch_rows(PID, {})  # the same backend
        assert db.engine.pool.checkedout() == 1  # kept, not borrowed for each statement
    finally:
        kept.close()
    assert db.engine.pool.checkedout() == 0


def test_a_kept_connection_goes_back_to_the_pool_in_transactions(scratch, monkeypatch):
    returned: list[bool] = []

    def checked_in(dbapi_connection, record) -> None:
        returned.append(dbapi_connection.autocommit)

    kept = direct.KeptConnection(db.engine)
    event.listen(db.engine, "checkin", checked_in)
    try:
        kept.fetch_rows(PID, {})
        monkeypatch.setattr(direct.KeptConnection, "RENEW_SECONDS", 0.0)
        kept.fetch_rows(PID, {})  # the first checkout is over: a new one
        assert returned == [False]
    finally:
        kept.close()
        event.remove(db.engine, "checkin", checked_in)
    assert returned == [False, False]


def test_a_kept_connection_the_server_dropped_fails_one_statement_and_is_replaced(scratch):
    kept = direct.KeptConnection(db.engine)
    try:
        ((pid,),) = kept.fetch_rows(PID, {})
        with psycopg.connect(DSN, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(DBAPIError) as failed:
            kept.fetch_rows(INSERT, {"note": "lost"})
        assert failed.value.connection_invalidated
        assert [row[1] for row in kept.fetch_rows(INSERT, {"note": "next"})] == ["next"]
        assert kept.fetch_rows(PID, {}) != [(pid,)]
    finally:
        kept.close()


def test_a_kept_connection_is_closed_when_its_engine_is_disposed(scratch):
    kept = direct.KeptConnection(db.engine)
    ((pid,),) = kept.fetch_rows(PID, {})
    db.engine.dispose()
    with psycopg.connect(DSN, autocommit=True) as admin:
        query = "SELECT count(*) FROM pg_stat_activity WHERE pid = %s"
        # closed, not left to the garbage collector (the backend's exit takes a moment)
        assert wait_until(lambda: admin.execute(query, (pid,)).fetchone() == (0,), 5)
    assert kept.fetch_rows(INSERT, {"note": "after"})[0][1] == "after"  # and renewed
    kept.close()

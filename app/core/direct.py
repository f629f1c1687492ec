"""One statement straight on the session's database connection: for the hottest path only.

SQLAlchemy's Core execution (compiled-cache lookup, execution context, result metadata)
costs more CPU than the driver's own call for a statement whose text never changes, and
intake runs one such statement per request at the rate of the whole city. `fetch_row`
gives that statement to psycopg directly, on the connection and in the transaction of
`db.session`, and keeps what the rest of the app relies on:

- the engine's `before_cursor_execute` listeners see it (the tests that count round trips,
  and any tracing that listens on the engine);
- the session's pending ORM changes are flushed first, as before any statement it runs;
- a driver error arrives as SQLAlchemy's `DBAPIError`, and a connection the error broke is
  invalidated, so that the pool replaces it as it would after any other statement.

With `alone`, a statement that is the whole unit of work and finds no transaction open (and
the session bound to the engine, not to a connection a transaction already holds) runs in
autocommit on a connection borrowed from the pool for that statement alone: one round trip
where BEGIN, the statement and COMMIT take three, and none of the session's transaction
bookkeeping. A single statement is atomic by itself, so nothing is half-stored either way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from sqlalchemy import TextClause, event
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DBAPIError

from app.extensions import db

#: the driver's text of each statement given, by identity (statements are built once per
#: app, so this holds a handful)
_SQL: dict[int, tuple[TextClause, str]] = {}

_AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}


def driver_sql(statement: TextClause, dialect: Dialect) -> str:
    """Return `statement` as the driver takes it (`%(name)s` placeholders), compiled once."""
    known = _SQL.get(id(statement))
    if known is not None and known[0] is statement:
        return known[1]
    sql = str(statement.compile(dialect=dialect))
    _SQL[id(statement)] = (statement, sql)
    return sql


def fetch_row(
    statement: TextClause, params: dict[str, Any], *, alone: bool = False
) -> tuple[Any, ...] | None:
    """Run `statement` on the session's connection; return its first row, or None.

    `alone`: the caller writes nothing else in this unit of work, so that, with no
    transaction open, the statement may commit itself (autocommit); with one open (an
    idempotency key claimed first, a savepoint), it runs inside it like any other.
    """
    engine = autocommit_engine(alone)
    if engine is not None:
        return _alone(engine, statement, params)
    session = db.session()  # the scoped session's own, for in_transaction()
    if session.autoflush:
        # as Session.execute would: the statement must see the ORM's pending changes
        session.flush()
    bind = session.get_bind()
    # bound to a Connection (a test's outer transaction), there is a transaction to join
    if alone and not session.in_transaction() and isinstance(bind, Engine):
        return _alone(bind, statement, params)
    return _run(session.connection(), statement, params)


def autocommit_engine(alone: bool) -> Engine | None:
    """Return the engine a statement run `alone` now would autocommit on, else None.

    That is when nothing has used the session in this request (fetch_row's first case), so
    that the statement may run on any pooled connection, in any thread.
    """
    if alone and not db.session.registry.has():
        # nothing has used the session in this request: no transaction, nothing pending, and
        # no need to make a session at all
        engine = db.engines[None]
        if isinstance(engine, Engine):  # not a test's connection
            return engine
    return None


class KeptConnection:
    """One pooled connection of `engine`, kept checked out in autocommit, for a caller that
    runs one statement at a time on it (a web process's intake batches, one after another).

    Borrowing a connection from the pool and switching it to autocommit and back cost
    15-50 us of CPU a statement (a one-row SELECT timed alone: 115-157 us borrowed, 99-108
    kept); kept, the connection is also the one whose prepared statement the intake reuses.
    It goes back to the pool every RENEW_SECONDS, so that the pool's recycling and a
    disposed engine reach it too, and at once when its engine is disposed. A connection an
    error broke is invalidated, as after any statement (see `_execute`): the next statement
    takes a new one.
    """

    #: how long one checkout is kept
    RENEW_SECONDS = 60.0

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self._since = 0.0
        event.listen(engine, "engine_disposed", lambda _engine: self.close(disposed=True))

    def fetch_rows(self, statement: TextClause, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Run `statement` in autocommit on the kept connection; return all its rows."""
        with self._lock:
            connection = self._connection
            now = time.monotonic()
            if connection is not None and (
                connection.invalidated or now - self._since > self.RENEW_SECONDS
            ):
                self._close()
                connection = None
            if connection is None:
                connection = self.engine.connect().execution_options(**_AUTOCOMMIT)
                self._connection, self._since = connection, now
            rows: list[tuple[Any, ...]] = _run(connection, statement, params, every_row=True)
            return rows

    def close(self, disposed: bool = False) -> None:
        """Give the connection back to the pool (it leaves autocommit there).

        `disposed`: its engine's pool is gone; close the connection to the database.
        """
        with self._lock:
            self._close(disposed)

    def _close(self, disposed: bool = False) -> None:
        if self._connection is not None:
            if disposed:
                self._connection.invalidate()
            self._connection.close()
            self._connection = None


def commit() -> None:
    """Commit the request's session, unless nothing has made one.

    After a statement run `alone` in a request that had not used the session, there is
    none: db.session.commit() would make one and begin a transaction, only to end it.
    """
    if db.session.registry.has():
        db.session.commit()


def _alone(engine: Engine, statement: TextClause, params: dict[str, Any]) -> Any:
    if engine.dispatch.before_cursor_execute:
        # listened to: through a Connection, for the listeners to be given one
        with engine.connect().execution_options(**_AUTOCOMMIT) as connection:
            return _run(connection, statement, params)
    return _autocommitted(engine, statement, params)


def _autocommitted(engine: Engine, statement: TextClause, params: dict[str, Any]) -> Any:
    """Run the statement in autocommit on a connection borrowed from the pool.

    The session holds no transaction and is left without one: the caller's commit then has
    nothing to do, and the connection goes back to the pool as soon as the row is read.
    """
    pooled = engine.raw_connection()
    try:
        raw = pooled.driver_connection
        assert isinstance(raw, psycopg.Connection)
        raw.autocommit = True
        try:
            return _execute(raw, statement, params, engine.dialect, pooled.invalidate, None)
        finally:
            if not raw.closed:
                raw.autocommit = False
    finally:
        pooled.close()  # back to the pool


def _run(
    connection: Connection, statement: TextClause, params: dict[str, Any], every_row: bool = False
) -> Any:
    raw = connection.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    return _execute(
        raw, statement, params, connection.dialect, connection.invalidate, connection, every_row
    )


def _execute(
    raw: psycopg.Connection,
    statement: TextClause,
    params: dict[str, Any],
    dialect: Dialect,
    invalidate: Callable[[], None],
    listened: Connection | None = None,
    every_row: bool = False,
) -> Any:
    """Execute on the driver's connection and return the first row (or, with `every_row`,
    them all), erring as SQLAlchemy does.

    `listened`: the Connection whose `before_cursor_execute` listeners (the engine's among
    them) are told of the statement first.
    """
    sql = driver_sql(statement, dialect)
    with raw.cursor() as cursor:
        try:
            if listened is not None:
                for listener in listened.dispatch.before_cursor_execute:
                    listener(listened, cursor, sql, params, None, False)
            cursor.execute(sql, params)
            return cursor.fetchall() if every_row else cursor.fetchone()
        except psycopg.Error as err:
            broken = raw.broken
            if broken:
                invalidate()  # the pool replaces it
            raise DBAPIError.instance(
                sql, params, err, psycopg.Error, connection_invalidated=broken
            ) from err

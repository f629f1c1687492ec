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
autocommit: one round trip where BEGIN, the statement and COMMIT take three. A single
statement is atomic by itself, so nothing is half-stored either way.
"""

from __future__ import annotations

from typing import Any

import psycopg
from sqlalchemy import TextClause
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from app.extensions import db

#: the driver's text of each statement given, by identity (statements are built once per
#: app, so this holds a handful)
_SQL: dict[int, tuple[TextClause, str]] = {}

_AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}


def driver_sql(statement: TextClause, connection: Connection) -> str:
    """Return `statement` as the driver takes it (`%(name)s` placeholders), compiled once."""
    known = _SQL.get(id(statement))
    if known is not None and known[0] is statement:
        return known[1]
    sql = str(statement.compile(dialect=connection.dialect))
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
    session = db.session()  # the scoped session's own, for in_transaction()
    if session.autoflush:
        # as Session.execute would: the statement must see the ORM's pending changes
        session.flush()
    # bound to a Connection (a test's outer transaction), there is a transaction to join
    autocommit = alone and not session.in_transaction() and isinstance(session.get_bind(), Engine)
    connection = session.connection(execution_options=_AUTOCOMMIT if autocommit else None)
    sql = driver_sql(statement, connection)
    raw = connection.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    cursor = raw.cursor()
    try:
        # the connection's listeners include the engine's
        for listener in connection.dispatch.before_cursor_execute:
            listener(connection, cursor, sql, params, None, False)
        cursor.execute(sql, params)
        return cursor.fetchone()
    except psycopg.Error as err:
        broken = raw.broken
        if broken:
            connection.invalidate()
        raise DBAPIError.instance(
            sql, params, err, psycopg.Error, connection_invalidated=broken
        ) from err
    finally:
        cursor.close()

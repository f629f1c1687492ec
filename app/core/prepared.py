"""Keep psycopg's prepared statements across rollbacks, so read requests stop re-planning.

psycopg prepares a statement on a connection once it has run five times there, and from
then on PostgreSQL runs it without planning it again. But psycopg forgets every prepared
statement at each ROLLBACK (and sends DEALLOCATE ALL), and a request that only reads ends
with one: the session rolls back its transaction when the request is over. So on the
read paths nothing stayed prepared, and PostgreSQL planned each statement afresh on every
request. For Open311's request JSON, planning took 2.3 ms of the backend's CPU where
running the plan took 0.3 ms (bench/README.md, "Prepared statements").

psycopg forgets them out of caution: a transaction that changed the schema and was rolled
back might leave a statement prepared against a table that no longer looks that way. The
app's connections never change the schema (migrations run in a process of their own, and
PostgreSQL itself re-plans a prepared statement whose tables a migration changed), and a
prepared statement outlives a rollback in PostgreSQL, so this connection rolls back without
forgetting them. Everything else about the rollback is psycopg's.

A prepared statement may also be planned once for every value (a generic plan), when
PostgreSQL estimates that as cheap as planning each time. For a search pattern that
estimate is blind: a common word's generic plan read the whole trigram index, 200 ms of the
backend's CPU instead of 38 ms. Statements whose best plan depends on the value of a
pattern run after plan_for_each_value().
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import pq
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from app.extensions import db

_OPEN = (pq.TransactionStatus.INTRANS, pq.TransactionStatus.INERROR)


class KeepPreparedConnection(psycopg.Connection[Any]):
    """A psycopg connection whose rollback keeps the statements it has prepared."""

    def rollback(self) -> None:
        if (
            self.pgconn.transaction_status not in _OPEN
            or self._num_transactions  # inside psycopg's own transaction(): its rules
            or self._tpc
            or self._pipeline
        ):
            super().rollback()
            return
        with self.lock:
            # what Connection.rollback sends, without its clearing of the prepared statements
            self.wait(self._exec_command(b"ROLLBACK"))


def keep_prepared(engine: Engine) -> None:
    """Make `engine`'s new connections KeepPreparedConnection (SQLAlchemy's do_connect hook)."""

    @event.listens_for(engine, "do_connect")
    def _connect(dialect: Any, record: Any, cargs: Any, cparams: Any) -> psycopg.Connection:
        return KeepPreparedConnection.connect(*cargs, **cparams)


#: the SQL expression that has the transaction's statements planned for their values
PLAN_FOR_EACH_VALUE = "set_config('plan_cache_mode', 'force_custom_plan', true)"


def plan_for_each_value() -> None:
    """Have the rest of this transaction's statements planned for their parameters' values.

    One round trip; local to the transaction, so the pooled connection's next request plans
    as usual.
    """
    db.session.execute(text(f"SELECT {PLAN_FOR_EACH_VALUE}"))

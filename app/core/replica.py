"""Read-only public traffic on a PostgreSQL streaming replica (DATABASE_REPLICA_URL).

A view decorated with `@reads_from_replica` runs its SELECTs on the replica; everything
else, and every write even inside such a view (RoutingSession in app/extensions.py), uses
the primary. Only views that may show data a
little old belong here: public Open311 reads, open data, the public map and search,
dashboards. Staff pages, every POST, and whatever must read its own writes (the Open311
token lookup a client polls right after posting) stay on the primary.

Staleness: a streaming replica replays the primary's WAL, usually within a second; under a
burst of writes or a long query on the replica it may fall further behind (see
pg_stat_replication.replay_lag on the primary). A lookup by id that finds nothing on the
replica is asked again of the primary, so a request posted a moment ago is never "not
found". Every LAG_CHECK_SECONDS each process asks the replica how far behind it is; past
DATABASE_REPLICA_MAX_LAG_SECONDS it is treated as down (below) until it catches up.

Fallback: when the replica cannot be reached (refused, timed out after
DATABASE_REPLICA_CONNECT_TIMEOUT seconds, or a connection breaks) the request is run again
on the primary, and this process sends nothing to the replica for
DATABASE_REPLICA_RETRY_SECONDS, so that requests do not each wait for a connect timeout.
That down-mark is per process: each web worker finds out on its own.

The replica's engine is kept here rather than in SQLALCHEMY_BINDS so that migrations and
create_all() never see it (a standby refuses DDL).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import sqlalchemy as sa
from flask import Flask, current_app, request
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import NotFound

from app.core.errors import NotFound as RecordNotFound
from app.core.prepared import keep_prepared
from app.extensions import READ_ENGINE_KEY, db

log = logging.getLogger(__name__)

EXTENSION_KEY = "city311_replica"

P = ParamSpec("P")
R = TypeVar("R")

#: errors that mean the replica is unreachable or its connection broke
_REPLICA_DOWN = (OperationalError, InterfaceError)
#: how often a process measures the replica's lag (one query)
LAG_CHECK_SECONDS = 5.0
#: seconds since the last replayed commit, or 0 when everything received is replayed (an
#: idle primary commits nothing, and the replica is then not behind however old that is)
_LAG_SQL = sa.text(
    "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
    " ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"
)
#: SQLSTATE of a write sent to a standby: a raw SQL write the routing could not recognise
_READ_ONLY_TRANSACTION = "25006"


@dataclass
class Replica:
    engine: Engine
    retry_seconds: float
    #: 0: no lag check
    max_lag_seconds: float = 0.0
    down_until: float = 0.0
    lag_checked_at: float = 0.0

    def usable(self) -> bool:
        return time.monotonic() >= self.down_until

    def mark_down(self, why: Exception | str) -> None:
        self.down_until = time.monotonic() + self.retry_seconds
        log.warning(
            "Read replica unavailable, reading from the primary for %.0f s: %s",
            self.retry_seconds,
            str(why).splitlines()[0] if str(why) else type(why).__name__,
        )

    def too_far_behind(self, connection: sa.Connection) -> bool:
        """Measure the lag now and then (LAG_CHECK_SECONDS); say if it is over the limit."""
        now = time.monotonic()
        if not self.max_lag_seconds or now - self.lag_checked_at < LAG_CHECK_SECONDS:
            return False
        self.lag_checked_at = now
        lag = float(connection.execute(_LAG_SQL).scalar() or 0)
        if lag <= self.max_lag_seconds:
            return False
        self.mark_down(f"{lag:.1f} s behind the primary")
        return True


def init_app(app: Flask) -> None:
    """Make the replica's engine when DATABASE_REPLICA_URL is set (it connects on first use)."""
    url = app.config.get("DATABASE_REPLICA_URL")
    if not url:
        return
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
    options["connect_args"] = {
        **options.get("connect_args", {}),
        "connect_timeout": int(app.config["DATABASE_REPLICA_CONNECT_TIMEOUT"]),
    }
    # a round trip per checkout, so that a replica restarted since is found out before the
    # view runs (and a streamed download does not break half-way) rather than by a failure
    options["pool_pre_ping"] = True
    engine = sa.create_engine(url, **options)
    keep_prepared(engine)
    app.extensions[EXTENSION_KEY] = Replica(
        engine=engine,
        retry_seconds=float(app.config["DATABASE_REPLICA_RETRY_SECONDS"]),
        max_lag_seconds=float(app.config["DATABASE_REPLICA_MAX_LAG_SECONDS"] or 0),
    )


def _replica() -> Replica | None:
    found: Replica | None = current_app.extensions.get(EXTENSION_KEY)
    return found


def _use_primary() -> None:
    request.environ.pop(READ_ENGINE_KEY, None)
    # ends the replica's transaction (and gives back a broken connection); objects loaded
    # so far are reloaded from the primary when next used
    db.session.rollback()


def _start() -> bool:
    """Route this request's reads to the replica if it answers; return whether it does."""
    replica = _replica()
    if replica is None or not replica.usable():
        return False
    request.environ[READ_ENGINE_KEY] = replica.engine
    try:
        # connect now, so that an unreachable replica is found before the view runs
        connection = db.session.connection(bind_arguments={"bind": replica.engine})
        behind = replica.too_far_behind(connection)
    except _REPLICA_DOWN as err:
        replica.mark_down(err)
        behind = True
    if behind:
        _use_primary()
        return False
    return True


def reads_from_replica(view: Callable[P, R]) -> Callable[P, R]:
    """Run this read-only view's queries on the replica, falling back to the primary.

    Put it closest to the function (below route, roles and schema decorators), so that
    sign-in checks still read the primary. The view may run twice: once on the replica and,
    if the replica fails or finds nothing (404), once on the primary; it must not write
    anything but via db.session (which takes the primary) or send anything.
    """

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if not _start():
            return view(*args, **kwargs)
        try:
            result = view(*args, **kwargs)
        except _REPLICA_DOWN as err:
            replica = _replica()
            if replica is not None:
                replica.mark_down(err)
            _use_primary()
            return view(*args, **kwargs)
        except (NotFound, RecordNotFound):
            _use_primary()  # perhaps only not replayed yet
            return view(*args, **kwargs)
        except DBAPIError as err:
            if getattr(err.orig, "sqlstate", None) != _READ_ONLY_TRANSACTION:
                raise
            log.warning("A write reached the read replica; %s runs on the primary", view)
            _use_primary()
            return view(*args, **kwargs)
        if _status(result) == 404:
            _use_primary()
            return view(*args, **kwargs)
        return result

    return wrapper


def _status(result: Any) -> int | None:
    if isinstance(result, tuple) and len(result) >= 2 and isinstance(result[1], int):
        return result[1]
    status = getattr(result, "status_code", None)
    return status if isinstance(status, int) else None


def dispose(app: Flask) -> None:
    """Close the replica's pooled connections (tests, and before a fork)."""
    replica: Replica | None = app.extensions.get(EXTENSION_KEY)
    if replica is not None:
        replica.engine.dispose()

"""DATABASE_REPLICA_URL against a real streaming replica of the test server, on another port.

The replica is made with pg_basebackup (-R writes standby.signal and primary_conninfo) and
run by the postgres OS user with the server's own binaries, then stopped and removed.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from flask_migrate import upgrade
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy import text

from app import create_app
from app.auth import service as auth_service
from app.auth.models import User
from app.core import replica
from app.extensions import db
from tests import factories
from tests.conftest import ADMIN_DSN, TEST_DB, db_url, free_port, recreate_database
from tests.helpers import bearer, sign_in

DB_NAME = f"{TEST_DB}_rr"

# a slot keeps the primary's WAL until the replica has it, however busy the server is
SLOT = re.sub(r"[^a-z0-9_]", "_", DB_NAME.lower())

# pg_basebackup copies the whole test server, however many other databases it holds
pytestmark = pytest.mark.timeout(1800)


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd  # already the postgres user (checked by the fixture)


def _run(cmd: list[str], what: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(_as_postgres(cmd), capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"{what} failed ({done.returncode}): {done.stderr or done.stdout}")
    return done


class ReplicaServer:
    """A hot standby of the test server, in a directory of its own."""

    def __init__(self, bindir: Path, root: Path, port: int) -> None:
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.port = port

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def start(self) -> None:
        _run(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.root / "server.log"),
                "-w",
                "-t",
                "120",
                "-o",
                f"-p {self.port} -k {self.root}",
                "start",
            ],
            "starting the replica",
        )

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            _run(
                [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
                "stopping the replica",
            )

    def sql(self, statement: str) -> object:
        with psycopg.connect(self.dsn(), autocommit=True, connect_timeout=5) as conn:
            row = conn.execute(statement).fetchone()
            return row[0] if row else None

    def wait_caught_up(self, timeout: float = 300) -> None:
        """Wait until the replica has replayed everything the primary has written so far."""
        with psycopg.connect(ADMIN_DSN, autocommit=True) as primary:
            row = primary.execute("SELECT pg_current_wal_lsn()::text").fetchone()
        assert row is not None
        deadline = time.monotonic() + timeout
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            while time.monotonic() < deadline:
                found = conn.execute(
                    "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (row[0],)
                ).fetchone()
                if found and found[0]:
                    return
                time.sleep(0.1)
        raise AssertionError(f"the replica did not replay up to {row[0]} in {timeout} s")


def _drop_slot(wait: float = 10) -> None:
    """Drop the test's replication slot (a leftover one too); a kept slot would hold WAL."""
    deadline = time.monotonic() + wait
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        while True:
            row = conn.execute(
                "SELECT active FROM pg_replication_slots WHERE slot_name = %s", (SLOT,)
            ).fetchone()
            if row is None:
                return
            if not row[0]:
                conn.execute("SELECT pg_drop_replication_slot(%s)", (SLOT,))
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"replication slot {SLOT} is still in use")
            time.sleep(0.2)


def _server_bindir() -> Path:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        row = conn.execute("SELECT current_setting('server_version_num')::int / 10000").fetchone()
    assert row is not None
    return Path(f"/usr/lib/postgresql/{row[0]}/bin")


def _standby_settings(port: int, socket_dir: Path) -> str:
    # a hot standby refuses to start with fewer of these than its primary has
    names = (
        "max_connections",
        "max_worker_processes",
        "max_wal_senders",
        "max_prepared_transactions",
        "max_locks_per_transaction",
    )
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)", (list(names),)
        ).fetchall()
    lines = [f"{name} = {value}" for name, value in rows]
    lines += [
        f"port = {port}",
        "listen_addresses = '127.0.0.1'",
        f"unix_socket_directories = '{socket_dir}'",
        "hot_standby = on",
        "shared_buffers = 32MB",
        "fsync = off",  # a throwaway copy
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def replica_server(app: Flask) -> Iterator[ReplicaServer]:
    bindir = _server_bindir()
    if not (bindir / "pg_ctl").exists() or not (bindir / "pg_basebackup").exists():
        pytest.skip(f"no PostgreSQL server binaries in {bindir} to run a replica with")
    if os.geteuid() != 0 and pwd.getpwuid(os.geteuid()).pw_name != "postgres":
        pytest.skip("running a replica needs root (to become postgres) or the postgres user")
    host = conninfo_to_dict(ADMIN_DSN).get("host")
    if host not in ("127.0.0.1", "localhost"):
        pytest.skip("the replica is made on this machine, so the test server must be local")

    root = Path(tempfile.mkdtemp(prefix="city311-replica-"))
    postgres = pwd.getpwnam("postgres")
    os.chown(root, postgres.pw_uid, postgres.pw_gid)
    root.chmod(0o700)
    server = ReplicaServer(bindir, root, free_port())
    _drop_slot()
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute("SELECT pg_create_physical_replication_slot(%s, true)", (SLOT,))
    try:
        done = subprocess.run(
            _as_postgres(
                [
                    str(bindir / "pg_basebackup"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(conninfo_to_dict(ADMIN_DSN).get("port") or 5432),
                    "-U",
                    "postgres",
                    "-D",
                    str(server.data),
                    "-R",
                    "-X",
                    "stream",
                    "-c",
                    "fast",
                    "-S",
                    SLOT,
                    "--no-sync",  # a throwaway copy: no waiting for gigabytes to reach the disk
                ]
            ),
            capture_output=True,
            text=True,
            timeout=900,
        )
        if done.returncode != 0 and "pg_hba.conf" in done.stderr:
            pytest.skip(
                "the test server refuses replication connections from 127.0.0.1: scripts/test "
                "adds 'host replication all 127.0.0.1/32 trust' to pg_hba.conf "
                f"({done.stderr.strip()})"
            )
        assert done.returncode == 0, f"pg_basebackup failed: {done.stderr}"
        # Debian keeps the configuration outside the data directory; the copy gets its own
        (server.data / "postgresql.conf").write_text(_standby_settings(server.port, root))
        (server.data / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\n"
        )
        (server.data / "pg_ident.conf").write_text("")
        for path in (server.data / name for name in ("postgresql.conf", "pg_hba.conf")):
            os.chown(path, postgres.pw_uid, postgres.pw_gid)
        os.chown(server.data / "pg_ident.conf", postgres.pw_uid, postgres.pw_gid)
        assert (server.data / "standby.signal").exists()
        server.start()
        assert server.sql("SELECT pg_is_in_recovery()") is True
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)
            _drop_slot()


@pytest.fixture(scope="module")
def city_db(app: Flask) -> Iterator[str]:
    """A database of this module's own, with the test city committed (the replica copies it)."""
    recreate_database(DB_NAME)
    setup = create_app("test", {"SQLALCHEMY_DATABASE_URI": db_url(DB_NAME)})
    with setup.app_context():
        upgrade()
        factories.make_city()
        db.session.commit()
        db.engine.dispose()
    yield DB_NAME
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (DB_NAME,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')


@pytest.fixture(scope="module")
def replica_app(
    city_db: str, replica_server: ReplicaServer, tmp_path_factory, smtp_server
) -> Iterator[Flask]:
    app = create_app(
        "test",
        {
            "SQLALCHEMY_DATABASE_URI": db_url(city_db),
            "DATABASE_REPLICA_URL": (
                f"postgresql+psycopg://postgres@127.0.0.1:{replica_server.port}/{city_db}"
            ),
            "MEDIA_ROOT": str(tmp_path_factory.mktemp("media")),
            "MAIL_OUTBOX_DIR": str(tmp_path_factory.mktemp("mail")),
            "SMTP_HOST": smtp_server[0],
            "SMTP_PORT": smtp_server[1],
        },
    )

    # which server a marked view's session reads from, and what a raw SQL write there does
    def in_recovery() -> dict[str, object]:
        return {"in_recovery": db.session.execute(text("SELECT pg_is_in_recovery()")).scalar()}

    @replica.reads_from_replica
    def probe() -> dict[str, object]:
        return in_recovery()

    @replica.reads_from_replica
    def raw_write() -> dict[str, object]:
        db.session.execute(text("UPDATE departments SET name = name WHERE false"))
        return in_recovery()

    app.add_url_rule("/test-only/replica-probe", view_func=probe)
    app.add_url_rule("/test-only/replica-write", view_func=raw_write)
    yield app
    with app.app_context():
        db.engine.dispose()
    replica.dispose(app)


def _submit(app: Flask, description: str) -> int:
    with app.app_context():
        found = factories.submit(description=description)
        db.session.commit()
        return found.id


def _token(app: Flask, role: str) -> str:
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(email=f"{role}@city.test")).scalar_one()
        token = auth_service.issue_token(user)
        db.session.commit()
        return token


def _open311_ids(client) -> set[int]:
    resp = client.get("/open311/v2/requests.json")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return {int(r["service_request_id"]) for r in resp.get_json()}


def _open_data_ids(client) -> set[int]:
    resp = client.get("/open-data/requests.csv")
    assert resp.status_code == 200
    lines = resp.get_data(as_text=True).splitlines()[1:]
    return {int(line.split(",")[0]) for line in lines if line}


def _map_ids(client) -> set[int]:
    resp = client.get("/api/v1/map/requests")
    assert resp.status_code == 200
    return {f["properties"]["id"] for f in resp.get_json()["features"]}


def test_public_reads_come_from_the_replica_and_staff_reads_from_the_primary(
    replica_app: Flask, replica_server: ReplicaServer
) -> None:
    client = replica_app.test_client()
    state = replica_app.extensions[replica.EXTENSION_KEY]
    state.max_lag_seconds = 0  # measured at the end, on purpose
    first = _submit(replica_app, "Seen by both servers")
    token = _token(replica_app, "agent")
    replica_server.wait_caught_up()
    assert first in _open311_ids(client)
    assert client.get("/test-only/replica-probe").get_json() == {"in_recovery": True}
    # a raw SQL write the routing cannot see is refused by the standby, then run on the primary
    assert client.get("/test-only/replica-write").get_json() == {"in_recovery": False}

    # with replay paused, the replica stops where it is while the primary moves on
    replica_server.sql("SELECT pg_wal_replay_pause()")
    try:
        second = _submit(replica_app, "Only on the primary so far")

        staff = client.get(f"/api/v1/requests/{second}", headers=bearer(token))
        assert staff.status_code == 200

        assert _open311_ids(client) == {first}
        assert first in _open_data_ids(client) and second not in _open_data_ids(client)
        assert first in _map_ids(client) and second not in _map_ids(client)

        # a lookup by number asks the primary when the replica has not got the row yet,
        # so a client that just posted never hears "not found"
        by_id = client.get(f"/open311/v2/requests/{second}.json")
        assert by_id.status_code == 200
        assert by_id.get_json()[0]["service_request_id"] == str(second)

        manager = replica_app.test_client()
        sign_in(manager, "manager@city.test")
        assert manager.get("/metrics").status_code == 200

        # a replica further behind than DATABASE_REPLICA_MAX_LAG_SECONDS is left alone
        state.max_lag_seconds, state.lag_checked_at = 0.001, 0.0
        assert _open311_ids(client) == {first, second}
        assert not state.usable()
        state.max_lag_seconds, state.down_until = 0, 0.0
    finally:
        replica_server.sql("SELECT pg_wal_replay_resume()")

    replica_server.wait_caught_up()
    assert _open311_ids(client) == {first, second}


def test_the_app_reads_from_the_primary_while_the_replica_is_down(
    replica_app: Flask, replica_server: ReplicaServer
) -> None:
    client = replica_app.test_client()
    assert client.get("/open311/v2/requests.json").status_code == 200  # pools a connection
    state = replica_app.extensions[replica.EXTENSION_KEY]
    assert state.usable()

    replica_server.stop()
    third = _submit(replica_app, "Reported while the replica is stopped")

    started = time.monotonic()
    assert third in _open311_ids(client)  # the pooled connection is dead: the primary answers
    assert not state.usable()  # and the replica is left alone for a while
    assert third in _open_data_ids(client)
    assert third in _map_ids(client)
    assert client.get("/open311/v2/services.json").status_code == 200

    # when the pause is over it is tried again: refused at once, answered by the primary
    state.down_until = 0.0
    assert third in _open311_ids(client)
    assert not state.usable()
    assert time.monotonic() - started < 10


def test_an_unreachable_replica_is_skipped_and_left_alone(app, client, city, monkeypatch) -> None:
    """Runs without a real replica: nothing listens on the replica's port."""
    monkeypatch.setitem(
        app.config, "DATABASE_REPLICA_URL", f"postgresql://postgres@127.0.0.1:{free_port()}/x"
    )
    monkeypatch.setitem(app.extensions, replica.EXTENSION_KEY, None)
    replica.init_app(app)
    state = app.extensions[replica.EXTENSION_KEY]
    reported = factories.submit(description="Read from the primary")
    db.session.commit()

    assert reported.id in _open311_ids(client)
    assert not state.usable()
    # the next requests do not try the replica again until the pause is over
    engine_connects: list[object] = []
    monkeypatch.setattr(state.engine, "connect", lambda: engine_connects.append(1))
    assert reported.id in _open311_ids(client)
    assert engine_connects == []
    state.engine.dispose()

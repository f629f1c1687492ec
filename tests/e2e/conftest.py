"""A live stack for end-to-end tests: gunicorn and an rq worker as real processes.

They share a database of their own (committed data, unlike the rolled-back unit tests),
a Redis db number of their own, and the loopback SMTP server of the session.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from flask_migrate import upgrade

from app import create_app
from app.auth import service as auth_service
from app.core import limits
from app.extensions import db
from tests import factories
from tests.conftest import TEST_DB, db_url, free_port, recreate_database
from tests.helpers import bearer

E2E_DB = f"{TEST_DB}_e2e"
E2E_REDIS = os.environ.get("TEST_E2E_REDIS_URL", "redis://127.0.0.1:6379/14")
BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
E2E_TILE_HOST = "http://tiles.e2e.invalid"
E2E_LIMITS = {
    name: "1000/minute"
    for name in (
        "RATELIMIT_REPORT",
        "RATELIMIT_ADDRESS_SEARCH",
        "RATELIMIT_PHOTO_UPLOAD",
        "RATELIMIT_PUBLIC_READ",
        "RATELIMIT_FOLLOW",
        "RATELIMIT_SIGN_IN",
    )
} | {"REPORTS_PER_CONTACT_PER_DAY": "1000"}


@dataclass
class LiveStack:
    base_url: str
    env: dict[str, str]
    city: dict[str, int]
    log_dir: Path

    def client(self, token: str | None = None) -> httpx.Client:
        headers = bearer(token) if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=20)

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}"
            for p in self.log_dir.glob("*.log")
        )


def stop_processes(procs: list[subprocess.Popen]) -> None:
    """Ask each process to stop, and kill the ones that do not within 10 s."""
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not become healthy")


@pytest.fixture(autouse=True, scope="module")
def _limiter_back(app) -> Iterator[None]:
    """Give the test app its limiter back after a module that started a stack.

    Flask-Limiter's limiter is one object, bound to the storage of the last app made: the
    stack's app (its own Redis db) would otherwise keep the later tests' counts, which no
    test empties.
    """
    yield
    limits.limiter.init_app(app)
    limits.limiter._storage_dead = False


@pytest.fixture(scope="module")
def live_stack(smtp_server, tmp_path_factory) -> Iterator[LiveStack]:
    with running_stack(smtp_server, tmp_path_factory) as stack:
        yield stack


@contextmanager
def running_stack(
    smtp_server, tmp_path_factory, extra_env: dict[str, str] | None = None
) -> Iterator[LiveStack]:
    """Start gunicorn and a worker on a fresh database; extra_env adds or overrides settings."""
    recreate_database(E2E_DB)
    port = free_port()
    media = tmp_path_factory.mktemp("e2e-media")
    log_dir = tmp_path_factory.mktemp("e2e-logs")
    env = {
        **os.environ,
        "CITY311_ENV": "development",
        "DATABASE_URL": db_url(E2E_DB),
        "REDIS_URL": E2E_REDIS,
        "RQ_QUEUE_PREFIX": "city311-e2e",
        "SECRET_KEY": "e2e-secret",
        "SMTP_HOST": smtp_server[0],
        "SMTP_PORT": str(smtp_server[1]),
        "MAIL_FROM": "City 311 <311@city.test>",
        "MEDIA_ROOT": str(media),
        # the development SMS backend writes each text here
        "SMS_OUTBOX_DIR": str(tmp_path_factory.mktemp("e2e-sms")),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "OUTBOX_SWEEP_SECONDS": "2",
        "OUTBOX_BACKOFF_SECONDS": "1",
        # never fetch real map tiles; browser tests answer this host with a blank tile
        "MAP_TILE_URL": f"{E2E_TILE_HOST}/{{z}}/{{x}}/{{y}}.png",
        # every client of the tests is 127.0.0.1: the limits are tested on their own
        **E2E_LIMITS,
        # the report form every anonymous resident shares is rendered anew this often
        "RESIDENT_FORM_CACHE_SECONDS": "5",
        **(extra_env or {}),
    }
    app = create_app(
        "development",
        {
            "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
            "REDIS_URL": E2E_REDIS,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "SECRET_KEY": env["SECRET_KEY"],  # else one is made in the repository's instance/
        },
    )
    with app.app_context():
        upgrade()
        c = factories.make_city()
        city = {
            "crew_a": c.crew_a.id,
            "ward2": c.ward2.id,
            **{f"user_{role}": u.id for role, u in c.users.items()},
        }
        db.session.commit()
        app.extensions["rq"].redis.flushdb()
        db.engine.dispose()

    procs: list[subprocess.Popen] = []
    logs = []
    try:
        web_log = open(log_dir / "gunicorn.log", "w")  # noqa: SIM115 (closed in finally)
        logs.append(web_log)
        web = subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=web_log,
            stderr=subprocess.STDOUT,
        )
        procs.append(web)
        worker_log = open(log_dir / "worker.log", "w")  # noqa: SIM115
        logs.append(worker_log)
        worker = subprocess.Popen(
            [str(BIN / "flask"), "--app", "wsgi", "worker"],
            cwd=ROOT,
            env=env,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
        )
        procs.append(worker)
        _wait_healthy(env["PUBLIC_BASE_URL"], web)
        yield LiveStack(env["PUBLIC_BASE_URL"], env, city, log_dir)
    finally:
        stop_processes(procs)
        for log in logs:
            log.close()
        app.extensions["rq"].redis.flushdb()


def token_for(stack: LiveStack, email: str) -> str:
    with stack.client() as http:
        resp = http.post(
            "/api/v1/auth/tokens", json={"email": email, "password": factories.PASSWORD}
        )
    assert resp.status_code == 201, resp.text
    return resp.json()["token"]


__all__ = ["LiveStack", "token_for", "auth_service"]

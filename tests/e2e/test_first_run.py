"""A first run as scripts/run makes it: development settings and nothing else set.

No SECRET_KEY in the environment, the schema and the demo city made by the flask commands,
then gunicorn with two workers and the rq worker. A resident's browser posts the report
form again and again and staff sign in again and again with the printed demo logins:
every request must work whichever web worker answers it.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from redis import Redis

from tests.conftest import TEST_DB, db_url, free_port, recreate_database
from tests.e2e.conftest import (
    BIN,
    E2E_LIMITS,
    E2E_REDIS,
    E2E_TILE_HOST,
    ROOT,
    _wait_healthy,
    stop_processes,
)

pytestmark = pytest.mark.e2e

FIRST_RUN_DB = f"{TEST_DB}_first_run"
ROUNDS = 20
BROWSERS = 4
#: a point inside the built-in demo city (the README's example)
RIVERTON_POINT = ("40.0152", "-75.0301")
#: settings a first run does not have (the test runner's own environment may)
UNSET = (
    "SECRET_KEY",
    "RQ_QUEUE_PREFIX",
    "SMTP_HOST",
    "MAIL_OUTBOX_DIR",
    "MEDIA_ROOT",
    "CITY_NAME",
    "FLASK_APP",
)
ROLE_HOME = {
    "agent": "/agent/requests/new",
    "dispatcher": "/dispatch",
    "crew": "/crew",
    "manager": "/metrics",
    "admin": "/metrics",
}


@dataclass
class FirstRun:
    base_url: str
    instance: Path
    accounts: list[tuple[str, str, str]]  # role, email, password as printed
    access_log: Path


def _flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _printed_accounts(output: str) -> list[tuple[str, str, str]]:
    found = re.findall(r"^\s+(\w+)\s+(\S+@demo\.city311\.org)\s+(\S+)", output, re.MULTILINE)
    return [(role, email, password) for role, email, password in found]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> Iterator[FirstRun]:
    recreate_database(FIRST_RUN_DB)
    port = free_port()
    instance = tmp_path_factory.mktemp("first-run") / "instance"
    logs = tmp_path_factory.mktemp("first-run-logs")
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env.update(
        CITY311_ENV="development",
        CITY311_INSTANCE_PATH=str(instance),
        DATABASE_URL=db_url(FIRST_RUN_DB),
        REDIS_URL=E2E_REDIS,
        # as scripts/run derives it: the database name
        RQ_QUEUE_PREFIX=FIRST_RUN_DB,
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        MAP_TILE_URL=f"{E2E_TILE_HOST}/{{z}}/{{x}}/{{y}}.png",
        **E2E_LIMITS,
    )
    _flask(env, "db", "upgrade")
    accounts = _printed_accounts(_flask(env, "demo", "load", "--builtin"))
    assert {role for role, _, _ in accounts} == set(ROLE_HOME), accounts

    access_log = logs / "access.log"
    procs: list[subprocess.Popen] = []
    files = [open(logs / "gunicorn.log", "w"), open(logs / "worker.log", "w")]  # noqa: SIM115
    try:
        web = subprocess.Popen(
            [
                *(str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}"),
                *("--access-logfile", str(access_log)),
                *("--access-logformat", '%(p)s %(s)s "%(r)s"'),
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=files[0],
            stderr=subprocess.STDOUT,
        )
        procs.append(web)
        procs.append(
            subprocess.Popen(
                [str(BIN / "flask"), "--app", "wsgi", "worker"],
                cwd=ROOT,
                env=env,
                stdout=files[1],
                stderr=subprocess.STDOUT,
            )
        )
        _wait_healthy(env["PUBLIC_BASE_URL"], web)
        yield FirstRun(env["PUBLIC_BASE_URL"], instance, accounts, access_log)
    finally:
        stop_processes(procs)
        for file in files:
            file.close()
        Redis.from_url(E2E_REDIS).flushdb()


def _csrf_token(page: httpx.Response) -> str:
    assert page.status_code == 200, page.text[:500]
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, "the page has no CSRF token"
    return match.group(1)


def _in_parallel(task, rounds: int = ROUNDS, browsers: int = BROWSERS) -> None:
    """Run task(browser_number, round_number) for `rounds` rounds shared by `browsers`.

    Browsers at work at the same time keep both web workers busy, so that one browser's
    requests are answered now by one worker, now by the other.
    """
    with ThreadPoolExecutor(max_workers=browsers) as pool:
        futures = [
            pool.submit(lambda b: [task(b, n) for n in range(b, rounds, browsers)], b)
            for b in range(browsers)
        ]
        for future in futures:
            future.result()


def test_a_residents_browser_posts_the_report_form_again_and_again(first_run: FirstRun):
    def report(browser_number: int, n: int) -> None:
        browser = browsers[browser_number]
        token = _csrf_token(browser.get("/"))
        sent = browser.post(
            "/",
            data={
                "csrf_token": token,
                "service_code": "pothole",
                "attribute[size]": "large",
                "description": f"Pothole number {n} in the right lane",
                "lat": RIVERTON_POINT[0],
                "long": RIVERTON_POINT[1],
                "email": "first.run@example.org" if n == 0 else "",
            },
        )
        assert sent.status_code == 303, f"post {n}: {sent.status_code} {sent.text[:300]}"
        track = browser.get(sent.headers["location"])
        assert track.status_code == 200
        assert "Thank you — your request number is" in track.text, f"post {n}"

    browsers = [httpx.Client(base_url=first_run.base_url, timeout=20) for _ in range(BROWSERS)]
    try:
        _in_parallel(report)
    finally:
        for browser in browsers:
            browser.close()

    # The run script says mail is written as .eml files to the instance folder's mail/.
    deadline = time.monotonic() + 30
    while not list((first_run.instance / "mail").glob("*.eml")):
        assert time.monotonic() < deadline, "no .eml was written for the receipt"
        time.sleep(0.2)


def test_staff_sign_in_again_and_again_with_the_printed_logins(first_run: FirstRun):
    def sign_in(browser_number: int, n: int) -> None:
        role, email, password = first_run.accounts[n % len(first_run.accounts)]
        with httpx.Client(base_url=first_run.base_url, timeout=20) as browser:
            token = _csrf_token(browser.get("/login"))
            signed_in = browser.post(
                "/login", data={"csrf_token": token, "email": email, "password": password}
            )
            assert signed_in.status_code == 302, f"sign-in {n} as {email}: {signed_in.text[:300]}"
            assert signed_in.headers["location"] == ROLE_HOME[role]
            page = browser.get(ROLE_HOME[role])
            assert page.status_code == 200, f"sign-in {n}: {ROLE_HOME[role]} -> {page.status_code}"
            assert f"Sign out ({email})" in page.text

    _in_parallel(sign_in)


def test_both_web_workers_answered_with_the_one_kept_key(first_run: FirstRun):
    served_by = {line.split()[0] for line in first_run.access_log.read_text().splitlines()}
    assert len(served_by) >= 2, served_by
    key_file = first_run.instance / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_the_addresses_the_run_script_prints_answer(first_run: FirstRun):
    with httpx.Client(base_url=first_run.base_url, timeout=20) as http:
        for path in ("/", "/login", "/api/v1/openapi.json", "/healthz"):
            assert http.get(path).status_code == 200, path

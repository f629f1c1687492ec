"""Rate limits: 429 with Retry-After and a message, per address, per API key, per account."""

from __future__ import annotations

import pytest

from app import create_app
from app.core import limits
from app.core.shared_counts import SharedCounts
from app.extensions import db
from app.open311 import keys
from tests.conftest import TEST_DB_URL
from tests.factories import PASSWORD, WARD_1_POINT, submit
from tests.helpers import sign_in

REPORT = {
    "service_code": "pothole",
    "description": "A hole",
    "lat": WARD_1_POINT[0],
    "long": WARD_1_POINT[1],
}


@pytest.fixture
def limit(app, monkeypatch):
    """Set one limit setting for this test only."""

    def setter(name: str, value: object) -> None:
        monkeypatch.setitem(app.config, name, value)

    return setter


@pytest.fixture
def runner(app, db_session):
    return app.test_cli_runner()


def assert_too_many(resp, words: str) -> None:
    assert resp.status_code == 429, resp.get_data(as_text=True)[:300]
    assert 0 < int(resp.headers["Retry-After"]) <= 24 * 3600 + 1
    text = resp.get_data(as_text=True)
    assert words in text, text[:400]


def test_the_intake_api_is_limited_per_address_with_a_json_answer(client, city, limit):
    limit("RATELIMIT_REPORT", "2/minute")
    for _ in range(2):
        assert client.post("/api/v1/requests", json=REPORT).status_code == 201
    resp = client.post("/api/v1/requests", json=REPORT)
    assert_too_many(resp, "Too many requests from your connection")
    assert resp.get_json()["code"] == 429
    # another client address has its own count
    other = client.post("/api/v1/requests", json=REPORT, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 201


def test_signed_in_staff_are_not_counted(client, city, limit, tokens):
    limit("RATELIMIT_REPORT", "1/minute")
    headers = {"Authorization": f"Bearer {tokens['agent']}"}
    for _ in range(3):
        assert client.post("/api/v1/requests", json=REPORT, headers=headers).status_code == 201


def test_the_resident_form_answers_a_page(client, city, limit):
    limit("RATELIMIT_REPORT", "1/minute")
    form = {k: str(v) for k, v in REPORT.items()}
    assert client.post("/", data=form).status_code == 303
    resp = client.post("/", data=form)
    assert_too_many(resp, "Too many requests")
    assert resp.mimetype == "text/html"
    # reading the form is not limited
    assert client.get("/").status_code == 200


def test_the_form_and_the_api_count_an_address_reports_together(client, city, limit):
    # neither channel doubles the other's allowance
    limit("RATELIMIT_REPORT", "2/minute")
    assert client.post("/", data={k: str(v) for k, v in REPORT.items()}).status_code == 303
    assert client.post("/api/v1/requests", json=REPORT).status_code == 201
    assert_too_many(client.post("/api/v1/requests", json=REPORT), "Too many requests")
    refused = client.post("/", data={k: str(v) for k, v in REPORT.items()})
    assert_too_many(refused, "Too many requests")
    assert refused.mimetype == "text/html"


@pytest.mark.parametrize(
    ("setting", "method", "path", "body"),
    [
        ("RATELIMIT_ADDRESS_SEARCH", "get", "/api/v1/addresses?q=elm", None),
        (
            "RATELIMIT_PUBLIC_READ",
            "get",
            f"/api/v1/requests/nearby?service_code=pothole&lat={WARD_1_POINT[0]}"
            f"&long={WARD_1_POINT[1]}",
            None,
        ),
        ("RATELIMIT_PUBLIC_READ", "get", "/api/v1/map/requests", None),
        ("RATELIMIT_FOLLOW", "post", "/api/v1/requests/{id}/followers", {"email": "f@e.org"}),
    ],
)
def test_public_endpoints_are_limited(client, city, limit, setting, method, path, body):
    sr = submit()
    db.session.commit()
    limit(setting, "2/minute")
    url = path.format(id=sr.id)
    for _ in range(2):
        assert getattr(client, method)(url, json=body).status_code in (200, 202)
    assert_too_many(getattr(client, method)(url, json=body), "please wait")


def test_following_by_the_page_and_the_api_count_together(client, city, limit):
    sr = submit()
    db.session.commit()
    limit("RATELIMIT_FOLLOW", "2/minute")
    assert client.post(f"/requests/{sr.id}/follow", data={"email": "a@e.org"}).status_code == 302
    api = client.post(f"/api/v1/requests/{sr.id}/followers", json={"email": "b@e.org"})
    assert api.status_code == 202
    assert_too_many(client.post(f"/requests/{sr.id}/follow", data={"email": "c@e.org"}), "wait")


def test_sign_in_is_limited_per_address(client, city, limit):
    limit("RATELIMIT_SIGN_IN", "2/minute")
    for _ in range(2):
        sign_in(client, "nobody@city.test", "wrong", refused=True)
    resp = client.post("/login", data={"email": "agent@city.test", "password": PASSWORD})
    assert_too_many(resp, "Too many requests")
    token = client.post("/api/v1/auth/tokens", json={"email": "a@b.c", "password": "x"})
    assert token.status_code == 429 and "Retry-After" in token.headers


def test_an_account_is_locked_after_repeated_failures(client, city, limit):
    limit("SIGN_IN_LOCKOUT_FAILURES", 3)
    limit("SIGN_IN_LOCKOUT_MINUTES", 10)
    # failures interrupted by a success start again from zero
    for _ in range(2):
        sign_in(client, "agent@city.test", "wrong", refused=True)
    sign_in(client, "agent@city.test")
    client.post("/logout")
    for _ in range(3):
        sign_in(client, "agent@city.test", "wrong", refused=True)

    locked = client.post("/login", data={"email": "Agent@City.test", "password": PASSWORD})
    assert_too_many(locked, "This account is locked after too many failed sign-ins")
    assert "10 minutes" in locked.get_data(as_text=True)
    assert 500 < int(locked.headers["Retry-After"]) <= 600
    api = client.post(
        "/api/v1/auth/tokens", json={"email": "agent@city.test", "password": PASSWORD}
    )
    assert api.status_code == 429 and "locked" in api.get_json()["message"]
    # other accounts are not locked
    sign_in(client, "dispatcher@city.test")


def post_open311(client, key: str) -> object:
    return client.post(
        "/open311/v2/requests.json",
        data={"api_key": key, **{k: str(v) for k, v in REPORT.items()}},
    )


def test_open311_clients_are_limited_per_key_and_unlimited_by_default(client, city, runner):
    row, limited_key = keys.create_key("Busy app")
    _, free_key = keys.create_key("Other app")
    db.session.commit()
    result = runner.invoke(
        args=["open311", "keys", "limit", "--prefix", row.key_prefix, "--rate", "2/minute"]
    )
    assert result.exit_code == 0 and "2/minute" in result.output

    for _ in range(2):
        assert post_open311(client, limited_key).status_code == 200
    resp = post_open311(client, limited_key)
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0
    assert "at most 2/minute" in resp.get_json()[0]["description"]
    # the limit is the key's, not the address's: another key from the same address goes on
    for _ in range(4):
        assert post_open311(client, free_key).status_code == 200

    bad = runner.invoke(
        args=["open311", "keys", "limit", "--prefix", row.key_prefix, "--rate", "lots"]
    )
    assert bad.exit_code != 0 and "is not a rate limit" in bad.output


def test_reports_per_contact_per_day_are_capped(client, city, limit):
    limit("REPORTS_PER_CONTACT_PER_DAY", 2)
    mine = {**REPORT, "email": "Busy@Example.org"}
    for _ in range(2):
        assert client.post("/api/v1/requests", json=mine).status_code == 201
    resp = client.post("/api/v1/requests", json={**mine, "email": "busy@example.org"})
    assert_too_many(resp, "already received 2 reports from this contact today")
    assert int(resp.headers["Retry-After"]) > 0
    form = client.post("/", data={k: str(v) for k, v in mine.items()})
    assert form.status_code == 429
    assert (
        client.post("/api/v1/requests", json={**REPORT, "email": "other@example.org"}).status_code
        == 201
    )


def redis_counts(app) -> dict[str, int]:
    """Return the rate-limit windows in Redis by their limit's name, as every process sees."""
    import redis

    client = redis.Redis.from_url(app.config["REDIS_URL"])
    return {key.decode(): int(client.get(key)) for key in client.scan_iter("LIMITS:*")}


def test_the_counts_go_on_after_redis_forgets_its_scripts(app, client, city, limit):
    # a Redis restarted (or flushed) since the first count no longer has the count script
    import redis

    limit("RATELIMIT_REPORT", "3/minute")
    assert client.post("/api/v1/requests", json=REPORT).status_code == 201
    with app.app_context():
        limits.sync_counts()
    redis.Redis.from_url(app.config["REDIS_URL"]).script_flush()
    assert client.post("/api/v1/requests", json=REPORT).status_code == 201
    with app.app_context():
        limits.sync_counts()
    assert sorted(redis_counts(app).values()) == [2]
    assert client.post("/api/v1/requests", json=REPORT).status_code == 201
    assert_too_many(client.post("/api/v1/requests", json=REPORT), "Too many requests")


def test_the_counts_are_kept_under_the_apps_key_prefix(app, client, city):
    # installations sharing one Redis must not count each other's reports
    prefix = app.config["RATELIMIT_KEY_PREFIX"]
    assert (
        client.post("/api/v1/requests", json={**REPORT, "email": "a@example.org"}).status_code
        == 201
    )
    with app.app_context():
        limits.sync_counts()
    counts = list(redis_counts(app))
    assert {key.split("/")[2] for key in counts} == {"report", "contact"}
    assert all(key.split("/")[1] == prefix for key in counts), counts


def test_other_processes_counts_reach_this_one_at_its_next_sync(app, client, city, limit):
    import redis

    limit("RATELIMIT_REPORT", "5/minute")
    assert client.post("/api/v1/requests", json=REPORT).status_code == 201
    with app.app_context():
        limits.sync_counts()
    (key,) = (key for key in redis_counts(app) if "/report/" in key)
    # three more reports from this address, accepted by another web process
    redis.Redis.from_url(app.config["REDIS_URL"]).incrby(key, 3)
    # this process has not heard of them yet: it counts 2 of 5
    assert client.post("/api/v1/requests", json=REPORT).status_code == 201
    with app.app_context():
        limits.sync_counts()  # and now it has: 5 of 5
    assert redis_counts(app)[key] == 5
    resp = client.post("/api/v1/requests", json=REPORT)
    assert_too_many(resp, "Too many requests")
    # the window's end comes from Redis: a minute from the first count
    assert 50 <= int(resp.headers["Retry-After"]) <= 60


def test_the_background_sync_sends_the_counts_without_being_asked(app, client, city):
    import time

    assert client.post("/api/v1/requests", json=REPORT).status_code == 201
    deadline = time.monotonic() + 5
    while not redis_counts(app) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sorted(redis_counts(app).values()) == [1]


def test_a_refused_report_uses_up_none_of_its_limits(app, client, city, limit):
    limit("REPORTS_PER_CONTACT_PER_DAY", 1)
    mine = {**REPORT, "email": "once@example.org"}
    assert client.post("/api/v1/requests", json=mine).status_code == 201
    assert client.post("/api/v1/requests", json=mine).status_code == 429
    with app.app_context():
        limits.sync_counts()
    by_limit = {key.split("/")[2]: n for key, n in redis_counts(app).items()}
    # the address's window counted the one accepted report only
    assert by_limit == {"report": 1, "contact": 1}


@pytest.fixture
def make_app(app, tmp_path):
    """Return a maker of apps of other settings; the test app gets the limiter back after.

    Flask-Limiter's limiter is one object, bound to the storage of the last app made.
    """

    def maker(**settings):
        return create_app(
            "test",
            {"SQLALCHEMY_DATABASE_URI": TEST_DB_URL, "MEDIA_ROOT": str(tmp_path), **settings},
        )

    yield maker
    limits.limiter.init_app(app)
    # and out of its Redis-down fallback, which it would leave only after a backoff
    limits.limiter._storage_dead = False


def test_redis_down_does_not_take_the_site_down(make_app):
    # nothing listens on port 1: the limiter falls back to counting in memory
    down = make_app(REDIS_URL="redis://127.0.0.1:1/0", RATELIMIT_ADDRESS_SEARCH="2/minute")
    with down.test_client() as client:
        answers = [client.get("/api/v1/addresses?q=elm").status_code for _ in range(3)]
    assert answers == [200, 200, 429]
    with down.app_context():
        db.engine.dispose()


def test_with_redis_down_reports_are_taken_and_counted_per_process(
    app, client, city, limit, monkeypatch
):
    # nothing listens on port 1
    down = SharedCounts("redis://127.0.0.1:1/0", interval=0.05, options={})
    monkeypatch.setitem(app.extensions, "limit-counts", down)
    limit("RATELIMIT_REPORT", "2/minute")
    answers = [client.post("/api/v1/requests", json=REPORT).status_code for _ in range(2)]
    with app.app_context():
        limits.sync_counts()  # Redis does not answer: the counts stay this process's
    answers.append(client.post("/api/v1/requests", json=REPORT).status_code)
    assert answers == [201, 201, 429]


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(make_app):
    proxied = make_app(TRUSTED_PROXY_COUNT=1, RATELIMIT_ADDRESS_SEARCH="1/minute")
    with proxied.test_client() as client:

        def ask(address: str) -> int:
            return client.get(
                "/api/v1/addresses?q=elm", headers={"X-Forwarded-For": address}
            ).status_code

        assert [ask("203.0.113.5"), ask("203.0.113.6"), ask("203.0.113.5")] == [200, 200, 429]
    proxied.extensions["rq"].redis.flushdb()
    with proxied.app_context():
        db.engine.dispose()

"""Settings per environment, read from os.environ when create_app() runs (never at import)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: the instance folder when CITY311_INSTANCE_PATH is unset: instance/ next to app/
DEFAULT_INSTANCE_PATH = Path(__file__).resolve().parent.parent / "instance"
#: where development keeps the secret key it made, inside the instance folder
SECRET_KEY_FILE = "secret_key"


def _opt(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else None


def _str(name: str, default: str) -> str:
    return _opt(name) or default


def _int(name: str, default: int) -> int:
    return int(_opt(name) or default)


def _float(name: str, default: float) -> float:
    return float(_opt(name) or default)


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    #: settings this environment refuses to start without
    REQUIRED: tuple[str, ...] = ()
    #: with no SECRET_KEY, make one once and keep it in the instance folder
    KEEPS_SECRET_KEY = False

    @classmethod
    def from_env(cls, instance: Path) -> dict[str, Any]:
        """Return this environment's settings: os.environ where set, else the defaults."""
        max_photo = _int("MAX_PHOTO_BYTES", 10 * 1024 * 1024)
        max_photos = _int("MAX_PHOTOS_PER_UPLOAD", 3)
        city_name = _str("CITY_NAME", "City of Riverton")
        return {
            "ENV_NAME": cls.ENV_NAME,
            "SQLALCHEMY_DATABASE_URI": _opt("DATABASE_URL"),
            # No pool_pre_ping: it costs a round trip per request on the intake path. A
            # connection broken by a database restart fails one request, and SQLAlchemy
            # then renews the pool.
            # JIT off: PostgreSQL compiles any plan its estimate calls costly, and on the
            # app's short queries compiling took 40-360 ms where running took 5 (bench/README.md)
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "pool_size": 10,
                "pool_recycle": 1800,
                "connect_args": {"options": "-c jit=off"},
            },
            "SQLALCHEMY_RECORD_QUERIES": False,
            # a streaming replica for the public reads (app/core/replica.py); unset: none
            "DATABASE_REPLICA_URL": _opt("DATABASE_REPLICA_URL"),
            # a replica that does not answer within this many seconds is skipped...
            "DATABASE_REPLICA_CONNECT_TIMEOUT": _int("DATABASE_REPLICA_CONNECT_TIMEOUT", 2),
            # ...and left alone by this process for this long before it is tried again
            "DATABASE_REPLICA_RETRY_SECONDS": _float("DATABASE_REPLICA_RETRY_SECONDS", 10),
            # a replica further behind than this is left alone like one that is down (0: no check)
            "DATABASE_REPLICA_MAX_LAG_SECONDS": _float("DATABASE_REPLICA_MAX_LAG_SECONDS", 30),
            "REDIS_URL": _str("REDIS_URL", "redis://127.0.0.1:6379/0"),
            # so that several installs (or the tests) can share one Redis
            "RQ_QUEUE_PREFIX": _str("RQ_QUEUE_PREFIX", "city311"),
            "SECRET_KEY": _opt("SECRET_KEY"),
            "SMTP_HOST": _opt("SMTP_HOST"),
            "SMTP_PORT": _int("SMTP_PORT", 25),
            "SMTP_USERNAME": _opt("SMTP_USERNAME"),
            "SMTP_PASSWORD": _opt("SMTP_PASSWORD"),
            "SMTP_STARTTLS": _str("SMTP_STARTTLS", "false") == "true",
            "SMTP_TIMEOUT": _float("SMTP_TIMEOUT", 15),
            "MAIL_FROM": _str("MAIL_FROM", "city311 <no-reply@city311.invalid>"),
            # with no SMTP_HOST, mail is written as .eml files here instead of being sent
            "MAIL_OUTBOX_DIR": _str("MAIL_OUTBOX_DIR", str(instance / "mail")),
            # SMS: "file" writes texts into SMS_OUTBOX_DIR; "twilio" sends them
            "SMS_BACKEND": _str("SMS_BACKEND", "file"),
            "SMS_OUTBOX_DIR": _str("SMS_OUTBOX_DIR", str(instance / "sms")),
            "SMS_FROM": _opt("SMS_FROM"),
            "TWILIO_ACCOUNT_SID": _opt("TWILIO_ACCOUNT_SID"),
            "TWILIO_AUTH_TOKEN": _opt("TWILIO_AUTH_TOKEN"),
            "TWILIO_API_URL": _str("TWILIO_API_URL", "https://api.twilio.com"),
            # a ten-digit number given for texts is taken as +<this><number> (North America)
            "SMS_COUNTRY_CODE": _str("SMS_COUNTRY_CODE", "1"),
            "MEDIA_ROOT": _str("MEDIA_ROOT", str(instance / "media")),
            # where photo files live: "local" (a disk under MEDIA_ROOT) or "s3" (an
            # S3-compatible bucket shared by every web server and worker host)
            "MEDIA_STORAGE": _str("MEDIA_STORAGE", "local"),
            "MEDIA_S3_BUCKET": _opt("MEDIA_S3_BUCKET"),
            # e.g. https://minio.internal:9000; unset for AWS itself
            "MEDIA_S3_ENDPOINT_URL": _opt("MEDIA_S3_ENDPOINT_URL"),
            "MEDIA_S3_REGION": _opt("MEDIA_S3_REGION"),
            # unset: boto3's own chain (AWS_* variables, the host's instance role)
            "MEDIA_S3_ACCESS_KEY_ID": _opt("MEDIA_S3_ACCESS_KEY_ID"),
            "MEDIA_S3_SECRET_ACCESS_KEY": _opt("MEDIA_S3_SECRET_ACCESS_KEY"),
            # keys go under this prefix, so that one bucket may serve several installs
            "MEDIA_S3_PREFIX": _str("MEDIA_S3_PREFIX", ""),
            "MAX_PHOTO_BYTES": max_photo,
            # width × height above which a photo is refused, read from its header
            "MAX_PHOTO_PIXELS": _int("MAX_PHOTO_PIXELS", 50_000_000),
            # pixels decoded at once: JPEGs are decoded scaled down to fit, PNG/WebP refused
            "PHOTO_DECODE_PIXELS": _int("PHOTO_DECODE_PIXELS", 16_000_000),
            # photos one report, note or completion may carry
            "MAX_PHOTOS_PER_UPLOAD": max_photos,
            # whole request bodies above this are refused with 413 before they are read
            "MAX_CONTENT_LENGTH": max_photo * max(max_photos, 1) + 1024 * 1024,
            "PUBLIC_BASE_URL": _str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
            "CITY_NAME": city_name,
            "CITY_TIMEZONE": _str("CITY_TIMEZONE", "America/New_York"),
            # opening hours and working weekdays: business-day SLAs count only these
            "CITY_BUSINESS_HOURS": _str("CITY_BUSINESS_HOURS", "08:00-17:00"),
            "CITY_BUSINESS_DAYS": _str("CITY_BUSINESS_DAYS", "mon-fri"),
            # how long a process trusts its copy of the holiday calendar
            "HOLIDAY_CACHE_SECONDS": _float("HOLIDAY_CACHE_SECONDS", 60),
            # likely duplicates: same type, within this distance and this many days
            "DUPLICATE_RADIUS_METRES": _float("DUPLICATE_RADIUS_METRES", 50),
            "DUPLICATE_WINDOW_DAYS": _float("DUPLICATE_WINDOW_DAYS", 30),
            # how long an Idempotency-Key and its answer are kept for retries
            "IDEMPOTENCY_KEY_DAYS": _int("IDEMPOTENCY_KEY_DAYS", 7),
            # intake caches each service type this long per process (edits show up after it)
            "CATALOGUE_CACHE_SECONDS": _float("CATALOGUE_CACHE_SECONDS", 30),
            # the resident's category picker lists first the types most reported over these
            # days, counted at most once per PICKER_CACHE_SECONDS in each web process
            "PICKER_USAGE_DAYS": _int("PICKER_USAGE_DAYS", 90),
            "PICKER_CACHE_SECONDS": _float("PICKER_CACHE_SECONDS", 300),
            # how long a process serves the report form it rendered for a language to every
            # anonymous visitor (a catalogue change reaches the form that late; 0: off)
            "RESIDENT_FORM_CACHE_SECONDS": _float("RESIDENT_FORM_CACHE_SECONDS", 5),
            # the district kind that defines the jurisdiction and tags each request
            "ROUTING_DISTRICT_KIND": _str("ROUTING_DISTRICT_KIND", "ward"),
            # published locations of sensitive service types snap to a grid this fine
            "PUBLIC_LOCATION_GRID_METRES": _float("PUBLIC_LOCATION_GRID_METRES", 150),
            # open-data counts: a month x district x type cell with fewer requests is withheld
            "OPEN_DATA_MIN_CELL": _int("OPEN_DATA_MIN_CELL", 5),
            "MAP_TILE_URL": _str("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
            "MAP_TILE_ATTRIBUTION": _str(
                "MAP_TILE_ATTRIBUTION",
                '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
                "contributors",
            ),
            # failed rows are retried after 1, 2, 4 … backoffs, up to this many attempts
            "OUTBOX_MAX_ATTEMPTS": _int("OUTBOX_MAX_ATTEMPTS", 8),
            "OUTBOX_SWEEP_SECONDS": _float("OUTBOX_SWEEP_SECONDS", 30),
            "OUTBOX_BACKOFF_SECONDS": _float("OUTBOX_BACKOFF_SECONDS", 60),
            # a row claimed by a worker that died is sent again after this long
            "OUTBOX_SENDING_LEASE_SECONDS": _float("OUTBOX_SENDING_LEASE_SECONDS", 45),
            # "is it fixed?": asked this long after closing; "not fixed" reopens within the window
            "SURVEY_DELAY_HOURS": _float("SURVEY_DELAY_HOURS", 72),
            "SURVEY_REOPEN_DAYS": _float("SURVEY_REOPEN_DAYS", 30),
            "SURVEY_SWEEP_SECONDS": _float("SURVEY_SWEEP_SECONDS", 300),
            # KPIs from fewer requests than this are flagged as a small sample
            "METRICS_MIN_SAMPLE": _int("METRICS_MIN_SAMPLE", 20),
            # a KPI read whose range holds at most this many durations (counted closures plus
            # acknowledged requests) gets its medians and p90s exactly from the raw rows
            "METRICS_EXACT_MAX_ROWS": _int("METRICS_EXACT_MAX_ROWS", 20_000),
            # when the worker brings the dashboard's rollup tables up to date (cron, worker time)
            "METRICS_ROLLUP_CRON": _str("METRICS_ROLLUP_CRON", "* * * * *"),
            # the most rows a metrics API page or a map may return
            "METRICS_MAX_PAGE_SIZE": _int("METRICS_MAX_PAGE_SIZE", 5000),
            # the city-local hour from which each department's overdue digest goes out
            "OVERDUE_DIGEST_HOUR": _int("OVERDUE_DIGEST_HOUR", 7),
            # rate limits ("count/period", several joined by ";"), per client address unless
            # said otherwise; RATELIMIT_ENABLED=false turns every one off
            "RATELIMIT_ENABLED": _str("RATELIMIT_ENABLED", "true") == "true",
            # the resident form's POST and POST /api/v1/requests (signed-in staff are exempt)
            "RATELIMIT_REPORT": _str("RATELIMIT_REPORT", "10/minute;60/hour"),
            # photos sent ahead of a report (POST /api/v1/photos): up to 3 a report, and retries
            "RATELIMIT_PHOTO_UPLOAD": _str("RATELIMIT_PHOTO_UPLOAD", "30/minute;200/hour"),
            # address suggestions are asked for as a person types
            "RATELIMIT_ADDRESS_SEARCH": _str("RATELIMIT_ADDRESS_SEARCH", "120/minute;2000/hour"),
            # nearby open requests and the public map's data
            "RATELIMIT_PUBLIC_READ": _str("RATELIMIT_PUBLIC_READ", "60/minute;1000/hour"),
            # "follow this request": each one sends an email
            "RATELIMIT_FOLLOW": _str("RATELIMIT_FOLLOW", "5/minute;30/hour"),
            # sign-in attempts (the page and POST /api/v1/auth/tokens)
            "RATELIMIT_SIGN_IN": _str("RATELIMIT_SIGN_IN", "10/minute;100/hour"),
            # an account is locked for SIGN_IN_LOCKOUT_MINUTES after this many failures in a row
            "SIGN_IN_LOCKOUT_FAILURES": _int("SIGN_IN_LOCKOUT_FAILURES", 5),
            "SIGN_IN_LOCKOUT_MINUTES": _int("SIGN_IN_LOCKOUT_MINUTES", 15),
            # the report, contact and Open311 key limits are decided in each process and summed
            # in Redis this often (a window half full is read back as often): a limit may be
            # passed by what other processes accept before they hear of it; no request waits
            "RATELIMIT_SYNC_SECONDS": _float("RATELIMIT_SYNC_SECONDS", 0.05),
            # reports one email address or phone number may make a day (0: no cap)
            "REPORTS_PER_CONTACT_PER_DAY": _int("REPORTS_PER_CONTACT_PER_DAY", 20),
            # reverse proxies in front of gunicorn whose X-Forwarded-For is trusted (0: none)
            "TRUSTED_PROXY_COUNT": _int("TRUSTED_PROXY_COUNT", 0),
            # a closed request's reporter contact, followers, original photos and the
            # addresses its emails went to are removed this many days after it closed
            "PRIVACY_RETENTION_DAYS": _int("PRIVACY_RETENTION_DAYS", 730),
            # werkzeug password hash method; the tests use a cheap one
            "PASSWORD_HASH_METHOD": "scrypt",
            "API_TOKEN_TTL_HOURS": _int("API_TOKEN_TTL_HOURS", 720),
            # Open311 GeoReport v2: the jurisdiction_id clients may send, and discovery's texts
            "OPEN311_JURISDICTION_ID": _str("OPEN311_JURISDICTION_ID", "city311.example"),
            "OPEN311_CONTACT": _str("OPEN311_CONTACT", f"{city_name} 311"),
            "OPEN311_KEY_SERVICE": _str(
                "OPEN311_KEY_SERVICE",
                "API keys for submitting requests are issued by the city's 311 administrators.",
            ),
            # how long a process trusts an API key it has checked; revocation reaches the
            # other processes then
            "OPEN311_KEY_CACHE_SECONDS": _float("OPEN311_KEY_CACHE_SECONDS", 10),
            # how long a process answers the same GET requests query from memory (a new
            # request reaches the feed that late), and the text it keeps at most (0: off)
            "OPEN311_FEED_CACHE_SECONDS": _float("OPEN311_FEED_CACHE_SECONDS", 5),
            "OPEN311_FEED_CACHE_CHARS": _int("OPEN311_FEED_CACHE_CHARS", 32 * 1024 * 1024),
            # bump when the Open311 API changes, so discovery clients notice
            "OPEN311_CHANGESET": "2026-11-21T00:00:00Z",
            # flask-smorest: the OpenAPI document is served at /api/v1/openapi.json
            "API_TITLE": "city311 API",
            "API_VERSION": "v1",
            "OPENAPI_VERSION": "3.0.3",
            "OPENAPI_URL_PREFIX": "/api/v1",
            "OPENAPI_JSON_PATH": "openapi.json",
            "WTF_CSRF_TIME_LIMIT": None,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
        }


class DevelopmentConfig(Config):
    """Local development: sensible defaults for everything, and a secret key kept on disk."""

    ENV_NAME = "development"
    # A key per process would make every web worker reject the others' sessions and CSRF
    # tokens; one kept in the instance folder also survives restarts.
    KEEPS_SECRET_KEY = True

    @classmethod
    def from_env(cls, instance: Path) -> dict[str, Any]:
        settings = super().from_env(instance)
        settings["SQLALCHEMY_DATABASE_URI"] = _str(
            "DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/city311"
        )
        return settings


class TestConfig(Config):
    """The test suite: a database of its own and a Redis db number of its own."""

    ENV_NAME = "test"

    @classmethod
    def from_env(cls, instance: Path) -> dict[str, Any]:
        settings = super().from_env(instance)
        max_photo = 2 * 1024 * 1024
        settings.update(
            TESTING=True,
            SQLALCHEMY_DATABASE_URI=_str(
                "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/city311_test"
            ),
            REDIS_URL=_str("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
            RQ_QUEUE_PREFIX="city311-test",
            DATABASE_REPLICA_URL=None,  # the replica test starts one of its own
            SECRET_KEY="test-secret-key",
            WTF_CSRF_ENABLED=False,
            PUBLIC_BASE_URL="http://city311.test",
            MAX_PHOTO_BYTES=max_photo,
            MAX_CONTENT_LENGTH=max_photo + 1024 * 1024,
            PASSWORD_HASH_METHOD="pbkdf2:sha256:1000",
            # every test comes from 127.0.0.1: limits are high unless a test lowers them
            RATELIMIT_REPORT="10000/minute",
            RATELIMIT_ADDRESS_SEARCH="10000/minute",
            RATELIMIT_PHOTO_UPLOAD="10000/minute",
            RATELIMIT_PUBLIC_READ="10000/minute",
            RATELIMIT_FOLLOW="10000/minute",
            RATELIMIT_SIGN_IN="10000/minute",
            REPORTS_PER_CONTACT_PER_DAY=10000,
            # a test reads back what it just wrote; tests/open311/test_feed_cache.py turns it on
            OPEN311_FEED_CACHE_SECONDS=0,
            # tests/requests/test_form_page.py turns it on
            RESIDENT_FORM_CACHE_SECONDS=0,
        )
        return settings


class ProductionConfig(Config):
    """Production: secrets and addresses must come from the environment."""

    ENV_NAME = "production"
    REQUIRED = ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "SMTP_HOST", "PUBLIC_BASE_URL")

    @classmethod
    def from_env(cls, instance: Path) -> dict[str, Any]:
        settings = super().from_env(instance)
        settings["SESSION_COOKIE_SECURE"] = True
        return settings


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def instance_path() -> Path:
    """Return the instance folder: CITY311_INSTANCE_PATH, else instance/ next to app/."""
    raw = _opt("CITY311_INSTANCE_PATH")
    return Path(raw).expanduser().resolve() if raw else DEFAULT_INSTANCE_PATH


def load_config(
    env_name: str, instance: Path, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Return the settings of `env_name`: defaults, then os.environ, then `overrides`."""
    cls = CONFIGS[env_name]
    settings = cls.from_env(instance)
    settings.update(overrides or {})
    if cls.KEEPS_SECRET_KEY and not settings.get("SECRET_KEY"):
        settings["SECRET_KEY"] = kept_secret_key(instance / SECRET_KEY_FILE)
    return settings


def kept_secret_key(path: Path) -> str:
    """Return the secret key kept in `path`, making it (mode 0600) if there is none yet.

    Processes that start together agree: the key is written to a file of this process's
    own, then hard-linked into place, which fails if another process got there first; the
    loser reads the winner's key. Nobody ever reads a half-written key.
    """
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    own = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(own, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(key + "\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(own, path)
        except FileExistsError:
            return _read_key(path)
    finally:
        own.unlink(missing_ok=True)
    return key


def _read_key(path: Path) -> str:
    key = path.read_text().strip()
    if len(key) < 32:
        raise RuntimeError(f"{path} holds no usable secret key; delete it to make a new one.")
    return key

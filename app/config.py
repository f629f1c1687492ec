"""Configuration classes; every setting can be overridden from the environment."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL")
    # No pool_pre_ping: it costs a round trip per request on the intake path. A connection
    # broken by a database restart fails one request, and SQLAlchemy then renews the pool.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_size": 10, "pool_recycle": 1800}
    SQLALCHEMY_RECORD_QUERIES = False
    REDIS_URL = _env("REDIS_URL", "redis://127.0.0.1:6379/0")
    #: prefix for rq queue names, so that several installs (or the tests) can share one Redis
    RQ_QUEUE_PREFIX = _env("RQ_QUEUE_PREFIX", "city311")
    SECRET_KEY = _env("SECRET_KEY")

    SMTP_HOST = _env("SMTP_HOST")
    SMTP_PORT = int(_env("SMTP_PORT", "25") or 25)
    SMTP_USERNAME = _env("SMTP_USERNAME")
    SMTP_PASSWORD = _env("SMTP_PASSWORD")
    SMTP_STARTTLS = _env("SMTP_STARTTLS", "false") == "true"
    SMTP_TIMEOUT = float(_env("SMTP_TIMEOUT", "15") or 15)
    MAIL_FROM = _env("MAIL_FROM", "city311 <no-reply@city311.invalid>")
    #: with no SMTP_HOST, mail is written as .eml files here instead of being sent
    MAIL_OUTBOX_DIR = _env("MAIL_OUTBOX_DIR", str(INSTANCE_DIR / "mail"))

    MEDIA_ROOT = _env("MEDIA_ROOT", str(INSTANCE_DIR / "media"))
    MAX_PHOTO_BYTES = int(_env("MAX_PHOTO_BYTES", str(10 * 1024 * 1024)) or 0)
    #: whole request bodies above this are refused with 413 before they are read
    MAX_CONTENT_LENGTH = MAX_PHOTO_BYTES + 1024 * 1024
    PUBLIC_BASE_URL = (_env("PUBLIC_BASE_URL", "http://127.0.0.1:8000") or "").rstrip("/")

    CITY_NAME = _env("CITY_NAME", "City of Riverton")
    CITY_TIMEZONE = _env("CITY_TIMEZONE", "America/New_York")
    #: opening hours and working weekdays: business-day SLAs count only these
    CITY_BUSINESS_HOURS = _env("CITY_BUSINESS_HOURS", "08:00-17:00")
    CITY_BUSINESS_DAYS = _env("CITY_BUSINESS_DAYS", "mon-fri")
    #: how long a process trusts its copy of the holiday calendar (edits elsewhere show then)
    HOLIDAY_CACHE_SECONDS = float(_env("HOLIDAY_CACHE_SECONDS", "60") or 60)
    #: how long an Idempotency-Key and its answer are kept for retries
    IDEMPOTENCY_KEY_DAYS = int(_env("IDEMPOTENCY_KEY_DAYS", "7") or 7)
    #: intake caches each service type this long per process (edits show up after it)
    CATALOGUE_CACHE_SECONDS = float(_env("CATALOGUE_CACHE_SECONDS", "30") or 30)
    #: the district kind that defines the jurisdiction and tags each request
    ROUTING_DISTRICT_KIND = _env("ROUTING_DISTRICT_KIND", "ward")
    MAP_TILE_URL = _env("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    MAP_TILE_ATTRIBUTION = _env(
        "MAP_TILE_ATTRIBUTION",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
    )

    #: outbox rows that fail are retried after 1, 2, 4 … minutes, up to this many attempts
    OUTBOX_MAX_ATTEMPTS = int(_env("OUTBOX_MAX_ATTEMPTS", "8") or 8)
    OUTBOX_SWEEP_SECONDS = float(_env("OUTBOX_SWEEP_SECONDS", "30") or 30)
    OUTBOX_BACKOFF_SECONDS = float(_env("OUTBOX_BACKOFF_SECONDS", "60") or 60)

    #: werkzeug password hash method; tests use a cheap one
    PASSWORD_HASH_METHOD = "scrypt"
    API_TOKEN_TTL_HOURS = int(_env("API_TOKEN_TTL_HOURS", "720") or 720)

    #: Open311 GeoReport v2: the jurisdiction_id clients may send, and discovery's texts
    OPEN311_JURISDICTION_ID = _env("OPEN311_JURISDICTION_ID", "city311.example")
    OPEN311_CONTACT = _env("OPEN311_CONTACT", f"{CITY_NAME} 311")
    OPEN311_KEY_SERVICE = _env(
        "OPEN311_KEY_SERVICE",
        "API keys for submitting requests are issued by the city's 311 administrators.",
    )
    #: how long a process trusts an API key it has checked; revocation reaches the others then
    OPEN311_KEY_CACHE_SECONDS = float(_env("OPEN311_KEY_CACHE_SECONDS", "10") or 10)
    #: bump when the Open311 API changes, so discovery clients notice
    OPEN311_CHANGESET = "2026-11-21T00:00:00Z"

    # flask-smorest: the OpenAPI document is served at /api/v1/openapi.json
    API_TITLE = "city311 API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"

    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"


class DevelopmentConfig(Config):
    """Local development: sensible defaults for everything, including a throwaway secret."""

    ENV_NAME = "development"
    SQLALCHEMY_DATABASE_URI = _env(
        "DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/city311"
    )
    # a fresh random key per process is safe; sessions just do not survive a restart
    SECRET_KEY = _env("SECRET_KEY") or secrets.token_hex(32)


class TestConfig(Config):
    """The test suite: a database of its own and a Redis db number of its own."""

    ENV_NAME = "test"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = _env(
        "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/city311_test"
    )
    REDIS_URL = _env("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    RQ_QUEUE_PREFIX = "city311-test"
    SECRET_KEY = "test-secret-key"
    WTF_CSRF_ENABLED = False
    PUBLIC_BASE_URL = "http://city311.test"
    MAX_PHOTO_BYTES = 2 * 1024 * 1024
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    MAX_CONTENT_LENGTH = MAX_PHOTO_BYTES + 1024 * 1024


class ProductionConfig(Config):
    """Production: secrets and addresses must come from the environment."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True

    REQUIRED = ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "SMTP_HOST", "PUBLIC_BASE_URL")


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}

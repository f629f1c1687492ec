import pytest

from app import create_app
from app.core.queue import QueueState
from app.extensions import db


def test_healthz_ok_when_database_and_redis_answer(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json()["checks"] == {"database": "ok", "redis": "ok"}
    assert resp.get_json()["status"] == "ok"
    assert client.get("/readyz").get_json()["status"] == "ok"


def test_healthz_names_redis_when_it_is_down(app, client):
    real = app.extensions["rq"]
    app.config["REDIS_URL"], saved = "redis://127.0.0.1:6390/0", app.config["REDIS_URL"]
    app.extensions["rq"] = QueueState(app)
    try:
        resp = client.get("/healthz")
    finally:
        app.extensions["rq"].redis.close()
        app.extensions["rq"], app.config["REDIS_URL"] = real, saved
    # intake works without Redis: a load balancer must keep the site in
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("unreachable")
    assert body["readiness"]["redis"].startswith("optional: degraded")
    assert "redis" in body["message"]


def test_healthz_names_the_database_when_it_is_down():
    app = create_app(
        "test",
        {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:5499/nowhere"},
    )
    resp = app.test_client().get("/healthz")
    with app.app_context():
        db.engine.dispose()
    assert resp.status_code == 503
    assert resp.get_json()["status"] == "unavailable"
    assert resp.get_json()["checks"]["database"].startswith("unreachable")
    assert resp.get_json()["checks"]["redis"] == "ok"


def test_production_refuses_to_start_without_secrets(monkeypatch):
    for name in ("SECRET_KEY", "SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(
            "production",
            {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://x@127.0.0.1/x", "SECRET_KEY": None},
        )


def test_database_url_must_be_postgresql():
    with pytest.raises(RuntimeError, match="PostgreSQL"):
        create_app("test", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})

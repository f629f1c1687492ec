"""Shared kernel: health check, template helpers; the rest lives in the submodules."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, Response, current_app, jsonify
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.core.clock import to_city_time
from app.extensions import db


def app_object() -> Flask:
    """Return the app behind current_app: signals are sent and filtered by the real object."""
    # Flask types current_app as Flask; it is a werkzeug LocalProxy, which has this method
    return current_app._get_current_object()  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    """Register /healthz, /readyz and the template filters every page uses."""
    from app.core import idempotency, queue

    app.add_url_rule("/healthz", "healthz", healthz)
    app.add_url_rule("/readyz", "readyz", healthz)
    queue.register_periodic(app, idempotency.purge_old_keys, 3600)

    @app.template_filter("citytime")
    def citytime(moment: datetime | None, fmt: str = "%b %d, %Y %H:%M") -> str:
        local = to_city_time(moment)
        return local.strftime(fmt) if local else ""

    @app.context_processor
    def city_context() -> dict[str, object]:
        return {
            "city_name": current_app.config["CITY_NAME"],
            "tile_url": current_app.config["MAP_TILE_URL"],
            "tile_attribution": current_app.config["MAP_TILE_ATTRIBUTION"],
        }


def healthz() -> tuple[Response, int]:
    """Answer 200 while PostgreSQL answers, saying "degraded" when Redis does not; else 503.

    Intake and the pages work without Redis (jobs wait in the outbox), so a load balancer
    must not take the site out for a Redis outage: only the database is required.
    """
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError as exc:
        db.session.rollback()
        checks["database"] = f"unreachable: {exc.__class__.__name__}"
    try:
        current_app.extensions["rq"].redis.ping()
        checks["redis"] = "ok"
    except RedisError as exc:
        checks["redis"] = f"unreachable: {exc.__class__.__name__}"
    ready = checks["database"] == "ok"
    down = [k for k, v in checks.items() if v != "ok"]
    status = "unavailable" if not ready else "degraded" if down else "ok"
    body: dict[str, object] = {
        "status": status,
        "checks": checks,
        # what each dependency's state means for serving: required, or degraded without it
        "readiness": {
            "database": "required: " + ("ok" if ready else "down"),
            "redis": "optional: "
            + (
                "ok"
                if checks["redis"] == "ok"
                else "degraded (emails and background jobs wait until it is back)"
            ),
        },
    }
    if down:
        body["message"] = f"{' and '.join(down)} not reachable"
    return jsonify(body), 200 if ready else 503

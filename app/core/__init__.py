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
    """Register /healthz and the template filters every page uses."""
    from app.core import idempotency, queue

    app.add_url_rule("/healthz", "healthz", healthz)
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
    """Answer 200 when PostgreSQL and Redis both answer, 503 naming what is down."""
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
    healthy = all(v == "ok" for v in checks.values())
    down = [k for k, v in checks.items() if v != "ok"]
    body = {"status": "ok" if healthy else "unavailable", "checks": checks}
    if down:
        body["message"] = f"{' and '.join(down)} not reachable"
    return jsonify(body), 200 if healthy else 503

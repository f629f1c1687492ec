"""city311: the application factory, the one module that wires every feature together."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from app.config import CONFIGS, Config, instance_path, load_config


def create_app(
    config: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    instance: str | os.PathLike[str] | None = None,
) -> Flask:
    """Build the app, reading its settings from the environment now.

    `config` names the environment ("development", "test", "production"); by default it is
    read from CITY311_ENV, and production is assumed when that is unset. `overrides` are
    applied last (the tests use them). `instance` is the instance folder (by default
    CITY311_INSTANCE_PATH, else instance/ next to app/).
    """
    env_name = config or os.environ.get("CITY311_ENV", "production")
    if env_name not in CONFIGS:
        raise RuntimeError(f"CITY311_ENV must be one of {sorted(CONFIGS)}, not {env_name!r}")
    folder = Path(instance).resolve() if instance is not None else instance_path()
    app = Flask(__name__, instance_path=str(folder), instance_relative_config=True)
    app.config.update(load_config(env_name, folder, overrides))
    _check_config(app)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    register_extensions(app)
    register_features(app)
    return app


def _check_config(app: Flask) -> None:
    missing = [k for k in CONFIGS[app.config["ENV_NAME"]].REQUIRED if not app.config.get(k)]
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        missing.append("SQLALCHEMY_DATABASE_URI")
    if not app.config.get("SECRET_KEY"):
        missing.append("SECRET_KEY")
    if missing:
        env_names = {"SQLALCHEMY_DATABASE_URI": "DATABASE_URL"}
        names = sorted({env_names.get(m, m) for m in missing})
        raise RuntimeError(
            f"Set {', '.join(names)} in the environment "
            f"(CITY311_ENV={app.config['ENV_NAME']}; "
            "CITY311_ENV=development gives local defaults)."
        )
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgresql://"):  # psycopg 3 is the driver; accept the common spelling
        app.config["SQLALCHEMY_DATABASE_URI"] = (
            "postgresql+psycopg://" + uri[len("postgresql://") :]
        )
    elif not uri.startswith("postgresql+psycopg://"):
        raise RuntimeError("DATABASE_URL must be a PostgreSQL URL (postgresql+psycopg://…)")
    if app.config["ENV_NAME"] == "production":
        app.config.setdefault("PREFERRED_URL_SCHEME", "https")


def register_extensions(app: Flask) -> None:
    from app import core
    from app.core import errors, headers, i18n, inputs, limits, prepared, queue, replica, sessions
    from app.extensions import api, csrf, db, login_manager, migrate

    inputs.init_app(app)  # first: its guard runs before CSRFProtect reads the form
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            prepared.keep_prepared(engine)
    replica.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    api.init_app(app, spec_kwargs={"info": {"description": "city311 staff and intake API."}})
    queue.init_app(app)
    errors.register_error_handlers(app)
    limits.init_app(app)
    headers.init_app(app)
    sessions.init_app(app)
    core.init_app(app)
    i18n.init_app(app)


def register_features(app: Flask) -> None:
    from app import (
        admin_pages,
        auth,
        cli,
        geo,
        media,
        metrics,
        navigation,
        notifications,
        open311,
        org,
        requests,
        sla,
        workorders,
    )

    features = (org, auth, geo, media, sla, requests, workorders, notifications, metrics, open311)
    for feature in features:
        feature.init_app(app)
    cli.init_app(app)
    admin_pages.init_app(app)
    navigation.init_app(app)


__all__ = ["create_app", "Config"]

"""The migrations are the schema: one head, reversible, and in step with the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from geoalchemy2 import alembic_helpers
from sqlalchemy import inspect

from app import create_app
from app.extensions import db
from tests.conftest import TEST_DB, db_url, recreate_database

MIG_DB = f"{TEST_DB}_migrations"
POSTGIS_TABLES = {"spatial_ref_sys", "layer", "topology"}


def _include(obj, name, type_, reflected, compare_to):
    if type_ == "table" and name in POSTGIS_TABLES:
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def test_single_head(app):
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_models_match_the_migrated_schema(app):
    with app.app_context(), db.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"include_object": _include, "compare_type": True}
        )
        diff = compare_metadata(ctx, db.metadata)
    assert diff == [], f"models and migrations disagree; run `flask db migrate`: {diff}"


def test_downgrade_to_base_and_upgrade_again():
    recreate_database(MIG_DB)
    app = create_app(
        "test",
        {"SQLALCHEMY_DATABASE_URI": db_url(MIG_DB)},
    )
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= POSTGIS_TABLES | {"alembic_version"}
        upgrade()
        assert "service_requests" in inspect(db.engine).get_table_names()
        db.engine.dispose()

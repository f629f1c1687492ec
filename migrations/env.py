import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from geoalchemy2 import alembic_helpers

config = context.config
# keep the app's own loggers: a migration run inside the app (tests, demo load) must not mute them
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

# Tables that PostGIS owns; autogenerate must never try to drop them.
POSTGIS_TABLES = {"spatial_ref_sys", "layer", "topology"}


def get_engine():
    return current_app.extensions["migrate"].db.engine


def get_engine_url():
    return get_engine().url.render_as_string(hide_password=False).replace("%", "%%")


config.set_main_option("sqlalchemy.url", get_engine_url())
target_db = current_app.extensions["migrate"].db


def include_object(obj, name, type_, reflected, compare_to):
    if type_ == "table" and name in POSTGIS_TABLES:
        return False
    # geoalchemy2 creates spatial indexes itself; this keeps autogenerate from duplicating them
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def configure_kwargs():
    return dict(
        target_metadata=target_db.metadata,
        include_object=include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
        compare_type=True,
    )


def run_migrations_offline():
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, literal_binds=True, **configure_kwargs())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    # Refuse to write an empty revision when nothing changed.
    def process_revision_directives(ctx, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")
                return
        alembic_helpers.writer(ctx, revision, directives)

    kwargs = configure_kwargs()
    kwargs["process_revision_directives"] = process_revision_directives
    with get_engine().connect() as connection:
        context.configure(connection=connection, **kwargs)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

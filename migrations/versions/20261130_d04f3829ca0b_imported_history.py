"""Imported history: the source system and case number, unknown locations, more channels

Revision ID: d04f3829ca0b
Revises: b7d2c4e9f013
Create Date: 2026-11-30 03:11:22.391145

"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

# revision identifiers, used by Alembic.
revision = "d04f3829ca0b"
down_revision = 'b7d2c4e9f013'
branch_labels = None
depends_on = None

OLD_CHANNELS = "'web', 'phone', 'api', 'mobile', 'open311', 'import'"
NEW_CHANNELS = OLD_CHANNELS + ", 'email', 'social', 'staff', 'walk_in', 'other'"
POINT = Geometry(geometry_type="POINT", srid=4326, spatial_index=True)


def upgrade():
    op.add_column("service_requests", sa.Column("import_source", sa.String(20), nullable=True))
    op.add_column("service_requests", sa.Column("external_id", sa.String(100), nullable=True))
    # rows the older importer wrote are history too
    op.execute("UPDATE service_requests SET import_source = 'history' WHERE channel = 'import'")
    op.alter_column("service_requests", "location", existing_type=POINT, nullable=True)
    op.create_unique_constraint(
        "uq_service_requests_external_id", "service_requests", ["import_source", "external_id"]
    )
    op.create_check_constraint(
        op.f("ck_service_requests_location_unless_imported"),
        "service_requests",
        "location IS NOT NULL OR import_source IS NOT NULL",
    )
    op.create_check_constraint(
        op.f("ck_service_requests_external_id_has_source"),
        "service_requests",
        "external_id IS NULL OR import_source IS NOT NULL",
    )
    op.drop_constraint(op.f("ck_service_requests_channel"), "service_requests", type_="check")
    op.create_check_constraint(
        op.f("ck_service_requests_channel"), "service_requests", f"channel IN ({NEW_CHANNELS})"
    )


def downgrade():
    # the old schema cannot hold history without a location, nor the newer channels
    op.execute("DELETE FROM service_requests WHERE location IS NULL")
    op.execute(f"UPDATE service_requests SET channel = 'import' WHERE channel NOT IN ({OLD_CHANNELS})")
    op.drop_constraint(op.f("ck_service_requests_channel"), "service_requests", type_="check")
    op.create_check_constraint(
        op.f("ck_service_requests_channel"), "service_requests", f"channel IN ({OLD_CHANNELS})"
    )
    op.drop_constraint(
        op.f("ck_service_requests_external_id_has_source"), "service_requests", type_="check"
    )
    op.drop_constraint(
        op.f("ck_service_requests_location_unless_imported"), "service_requests", type_="check"
    )
    op.drop_constraint("uq_service_requests_external_id", "service_requests", type_="unique")
    op.alter_column("service_requests", "location", existing_type=POINT, nullable=False)
    op.drop_column("service_requests", "external_id")
    op.drop_column("service_requests", "import_source")

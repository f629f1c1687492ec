"""Open requests by type and time: Open311's open lists and the likely duplicates

Measured with bench/reads.py at 5 million requests (bench/README.md): Open311's open
requests of one type, and the likely duplicates counted for each row of a queue page (open
requests of the same type, near, reported within the window), walked every request of the
type, open or closed, and filtered the closed ones out. This partial index holds the open
requests only (under a tenth of a city's history). On a large live table, build it by hand
first with CREATE INDEX CONCURRENTLY under the same name (docs/scaling.md): this migration
then finds it and skips it.

Revision ID: c4a9e2f71b08
Revises: 5d1c0e7a9b42
Create Date: 2026-11-30 10:45:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c4a9e2f71b08"
down_revision = "5d1c0e7a9b42"
branch_labels = None
depends_on = None

OPEN = sa.text("status <> 'closed'")


def upgrade():
    op.create_index(
        "ix_service_requests_open_type_requested",
        "service_requests",
        ["service_type_id", "requested_at"],
        unique=False,
        postgresql_where=OPEN,
        if_not_exists=True,
    )


def downgrade():
    op.drop_index("ix_service_requests_open_type_requested", table_name="service_requests")

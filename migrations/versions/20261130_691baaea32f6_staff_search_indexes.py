"""Read indexes at city scale: staff search (a phone's last 7 digits, lower(email), trigrams
of words), Open311 requests by service code newest first, and the queue's counts from its index

Measured with bench/reads.py at 5 million requests (README, Benchmarks; docs/scaling.md):
without them a staff search reads every request, and the queue counts read every open one.
On a large live table, build the new indexes by hand first with CREATE INDEX CONCURRENTLY
under the same names (docs/scaling.md): this migration then finds them and skips them.

Revision ID: 691baaea32f6
Revises: 1e169e9cdc5c
Create Date: 2026-11-30 03:58:57.574997

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "691baaea32f6"
down_revision = '1e169e9cdc5c'
branch_labels = None
depends_on = None

OPEN = sa.text("status <> 'closed'")


def upgrade():
    op.create_index(
        "ix_service_requests_phone_key",
        "service_requests",
        [sa.literal_column("right(regexp_replace(reporter_phone, '\\D', '', 'g'), 7)")],
        unique=False,
        if_not_exists=True,
    )
    op.create_index(
        "ix_service_requests_email_lower",
        "service_requests",
        [sa.literal_column("lower(reporter_email)")],
        unique=False,
        if_not_exists=True,
    )
    for column in ("description", "address"):
        op.create_index(
            f"ix_service_requests_{column}_trgm",
            "service_requests",
            [column],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
            if_not_exists=True,
        )
    # the new index leads with service_type_id, so it serves the foreign key's lookups too
    op.create_index(
        "ix_service_requests_service_type_id_requested_at",
        "service_requests",
        ["service_type_id", "requested_at"],
        unique=False,
        if_not_exists=True,
    )
    op.drop_index("ix_service_requests_service_type_id", table_name="service_requests")
    op.drop_index("ix_service_requests_open_queue", table_name="service_requests")
    op.create_index(
        "ix_service_requests_open_queue",
        "service_requests",
        ["department_id", "due_at"],
        unique=False,
        postgresql_include=["import_source"],
        postgresql_where=OPEN,
    )
    # the planner knows an expression's values only from the statistics ANALYZE gathers for
    # its index: until then it guesses 0.5% of the table match an email and walks the
    # requests newest first looking for them (seconds at 5 M rows instead of a millisecond)
    op.execute("ANALYZE service_requests")


def downgrade():
    op.drop_index("ix_service_requests_open_queue", table_name="service_requests")
    op.create_index(
        "ix_service_requests_open_queue",
        "service_requests",
        ["department_id", "due_at"],
        unique=False,
        postgresql_where=OPEN,
    )
    op.create_index(
        "ix_service_requests_service_type_id",
        "service_requests",
        ["service_type_id"],
        unique=False,
    )
    for name in (
        "ix_service_requests_service_type_id_requested_at",
        "ix_service_requests_address_trgm",
        "ix_service_requests_description_trgm",
        "ix_service_requests_email_lower",
        "ix_service_requests_phone_key",
    ):
        op.drop_index(name, table_name="service_requests")

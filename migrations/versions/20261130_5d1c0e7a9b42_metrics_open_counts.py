"""Open requests counted per dimension, kept in step by triggers; open requests by age

Revision ID: 5d1c0e7a9b42
Revises: b7e3f1a2c9d4
Create Date: 2026-11-30 06:25:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d1c0e7a9b42'
down_revision = 'b7e3f1a2c9d4'
branch_labels = None
depends_on = None

DIMS = "department_id, service_type_id, district_id, channel"
OPEN = "status <> 'closed'"

# One statement-level trigger per event, each reading its transition tables: a statement
# that changes many requests (an import batch, a purge) appends one delta per dimension
# combination, and an update that leaves a request open under the same dimensions (most
# updates) appends nothing. Only INSERTs into metrics_open_deltas: concurrent writers never
# wait on one another's counter row.
FUNCTION = f"""
CREATE FUNCTION metrics_open_deltas_append() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO metrics_open_deltas ({DIMS}, n)
        SELECT {DIMS}, count(*) FROM new_rows WHERE {OPEN} GROUP BY {DIMS};
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO metrics_open_deltas ({DIMS}, n)
        SELECT {DIMS}, -count(*) FROM old_rows WHERE {OPEN} GROUP BY {DIMS};
    ELSE
        INSERT INTO metrics_open_deltas ({DIMS}, n)
        SELECT {DIMS}, sum(d) FROM (
            SELECT {DIMS}, 1 AS d FROM new_rows WHERE {OPEN}
            UNION ALL
            SELECT {DIMS}, -1 FROM old_rows WHERE {OPEN}
        ) AS changes
        GROUP BY {DIMS} HAVING sum(d) <> 0;
    END IF;
    RETURN NULL;
END
$$
"""
TRIGGERS = {
    "INSERT": "REFERENCING NEW TABLE AS new_rows",
    "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "DELETE": "REFERENCING OLD TABLE AS old_rows",
}


def upgrade():
    op.create_table('metrics_open_counts',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('service_type_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metrics_open_counts'))
    )
    op.create_index('uq_metrics_open_counts_dims', 'metrics_open_counts', ['department_id', 'service_type_id', 'district_id', 'channel'], unique=True, postgresql_nulls_not_distinct=True)
    op.create_table('metrics_open_deltas',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('service_type_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metrics_open_deltas'))
    )
    op.create_index('ix_service_requests_open_requested', 'service_requests', ['requested_at'], unique=False, postgresql_include=['due_at', 'department_id', 'service_type_id', 'district_id', 'channel'], postgresql_where=sa.text(OPEN))
    op.execute(FUNCTION)
    for event, referencing in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER metrics_open_{event.lower()} AFTER {event} ON service_requests"
            f" {referencing} FOR EACH STATEMENT EXECUTE FUNCTION metrics_open_deltas_append()"
        )
    op.execute(
        f"INSERT INTO metrics_open_counts ({DIMS}, n)"
        f" SELECT {DIMS}, count(*) FROM service_requests WHERE {OPEN} GROUP BY {DIMS}"
    )


def downgrade():
    for event in TRIGGERS:
        op.execute(f"DROP TRIGGER metrics_open_{event.lower()} ON service_requests")
    op.execute("DROP FUNCTION metrics_open_deltas_append()")
    op.drop_index('ix_service_requests_open_requested', table_name='service_requests', postgresql_include=['due_at', 'department_id', 'service_type_id', 'district_id', 'channel'], postgresql_where=sa.text(OPEN))
    op.drop_table('metrics_open_deltas')
    op.drop_index('uq_metrics_open_counts_dims', table_name='metrics_open_counts', postgresql_nulls_not_distinct=True)
    op.drop_table('metrics_open_counts')

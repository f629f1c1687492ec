"""Open requests counted per dimension, kept in step by triggers; open requests by age; week rollups; a type's closures by time

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


MEASURES = (
    "requested, acknowledged, ack_seconds, closed, closed_counted, closed_duplicate,"
    " closed_referred, closed_no_action, within_sla, close_seconds, close_net_seconds,"
    " reopened, transferred"
)
ROLLUP_DIMS = "level, period, department_id, service_type_id, district_id, channel"
# the week rows of the levels kept per day, summed from their day rows (the worker builds
# them from the raw requests from now on; the two agree, as day and month rows do)
WEEKS_FROM_DAYS = f"""
WITH d AS (
    SELECT level, CAST(date_trunc('week', period) AS date) AS period, department_id,
           service_type_id, district_id, channel, {MEASURES}, hist_keys, hist_counts
    FROM metrics_rollups WHERE grain = 'd'
), sums AS (
    SELECT {ROLLUP_DIMS}, {", ".join(f"sum({m.strip()}) AS {m.strip()}" for m in MEASURES.split(","))}
    FROM d GROUP BY {ROLLUP_DIMS}
), cells AS (
    SELECT {ROLLUP_DIMS}, hkey, sum(n) AS n FROM (
        SELECT {ROLLUP_DIMS}, unnest(hist_keys) AS hkey, unnest(hist_counts) AS n FROM d
    ) AS u GROUP BY {ROLLUP_DIMS}, hkey
), hists AS (
    SELECT {ROLLUP_DIMS}, array_agg(hkey ORDER BY hkey) AS keys,
           array_agg(CAST(n AS int) ORDER BY hkey) AS counts
    FROM cells GROUP BY {ROLLUP_DIMS}
)
INSERT INTO metrics_rollups (grain, {ROLLUP_DIMS}, {MEASURES}, hist_keys, hist_counts)
SELECT 'w', s.level, s.period, s.department_id, s.service_type_id, s.district_id, s.channel,
       {", ".join(f"s.{m.strip()}" for m in MEASURES.split(","))},
       COALESCE(h.keys, '{{}}'), COALESCE(h.counts, '{{}}')
FROM sums s LEFT JOIN hists h
  ON h.level = s.level AND h.period = s.period AND h.department_id = s.department_id
 AND h.service_type_id = s.service_type_id AND h.channel = s.channel
 AND h.district_id IS NOT DISTINCT FROM s.district_id
"""


def upgrade():
    op.drop_constraint(op.f('ck_metrics_rollups_grain'), 'metrics_rollups', type_='check')
    op.create_check_constraint(op.f('ck_metrics_rollups_grain'), 'metrics_rollups', "grain IN ('d', 'w', 'm')")
    op.execute(WEEKS_FROM_DAYS)
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
    op.create_index('ix_service_requests_service_type_id_closed_at', 'service_requests', ['service_type_id', 'closed_at'], unique=False)
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
    op.execute("DELETE FROM metrics_rollups WHERE grain = 'w'")
    op.drop_constraint(op.f('ck_metrics_rollups_grain'), 'metrics_rollups', type_='check')
    op.create_check_constraint(op.f('ck_metrics_rollups_grain'), 'metrics_rollups', "grain IN ('d', 'm')")
    for event in TRIGGERS:
        op.execute(f"DROP TRIGGER metrics_open_{event.lower()} ON service_requests")
    op.execute("DROP FUNCTION metrics_open_deltas_append()")
    op.drop_index('ix_service_requests_open_requested', table_name='service_requests', postgresql_include=['due_at', 'department_id', 'service_type_id', 'district_id', 'channel'], postgresql_where=sa.text(OPEN))
    op.drop_index('ix_service_requests_service_type_id_closed_at', table_name='service_requests')
    op.drop_table('metrics_open_deltas')
    op.drop_index('uq_metrics_open_counts_dims', table_name='metrics_open_counts', postgresql_nulls_not_distinct=True)
    op.drop_table('metrics_open_counts')

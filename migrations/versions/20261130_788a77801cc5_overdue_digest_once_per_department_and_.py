"""overdue digest: once per department and day; outbox notices about no request owed once

Revision ID: 788a77801cc5
Revises: 93df0b9a88fc
Create Date: 2026-11-30 00:53:25.964103

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '788a77801cc5'
down_revision = '93df0b9a88fc'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('overdue_digests',
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('overdue', sa.Integer(), nullable=False),
    sa.Column('due_soon', sa.Integer(), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_overdue_digests_department_id_departments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('department_id', 'day', name=op.f('pk_overdue_digests'))
    )
    # NULLS NOT DISTINCT (PostgreSQL 15): with request_id NULL, as for a digest, the old key
    # let the same notice be owed twice
    op.drop_constraint(op.f('uq_outbox_once'), 'outbox', type_='unique')
    op.create_unique_constraint('uq_outbox_once', 'outbox', ['event', 'request_id', 'recipient', 'dedupe_key'], postgresql_nulls_not_distinct=True)


def downgrade():
    op.drop_constraint(op.f('uq_outbox_once'), 'outbox', type_='unique')
    op.create_unique_constraint(op.f('uq_outbox_once'), 'outbox', ['event', 'request_id', 'recipient', 'dedupe_key'])
    op.drop_table('overdue_digests')

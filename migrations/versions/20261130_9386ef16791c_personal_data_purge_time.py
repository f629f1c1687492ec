"""service_requests.personal_data_purged_at: when the retention purge emptied its contact

Revision ID: 9386ef16791c
Revises: 6914ef88bd33
Create Date: 2026-11-30 03:10:36.754080

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9386ef16791c'
down_revision = '6914ef88bd33'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('service_requests', sa.Column('personal_data_purged_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column('service_requests', 'personal_data_purged_at')

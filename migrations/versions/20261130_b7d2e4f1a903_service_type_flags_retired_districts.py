"""Service type flags (public, sensitive, emergency_notice) and districts.retired

Revision ID: b7d2e4f1a903
Revises: 3862467c7d56
Create Date: 2026-11-30 03:20:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'b7d2e4f1a903'
down_revision = '3862467c7d56'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('service_types', sa.Column('public', sa.Boolean(), server_default='true', nullable=False))
    op.add_column('service_types', sa.Column('sensitive', sa.Boolean(), server_default='false', nullable=False))
    op.add_column('service_types', sa.Column('emergency_notice', sa.Text(), server_default='', nullable=False))
    op.add_column('districts', sa.Column('retired', sa.Boolean(), server_default='false', nullable=False))


def downgrade():
    op.drop_column('districts', 'retired')
    op.drop_column('service_types', 'emergency_notice')
    op.drop_column('service_types', 'sensitive')
    op.drop_column('service_types', 'public')

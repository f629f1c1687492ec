"""users.last_sign_in_at: when each staff account last signed in

Revision ID: 3862467c7d56
Revises: 59571bb4e541
Create Date: 2026-11-30 03:11:15.612979

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3862467c7d56'
down_revision = '59571bb4e541'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('last_sign_in_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column('users', 'last_sign_in_at')

"""anonymous idempotency keys: residents' retried reports create one request

Revision ID: b7e3f1a2c9d4
Revises: 691baaea32f6
Create Date: 2026-11-30 04:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b7e3f1a2c9d4"
down_revision = '691baaea32f6'
branch_labels = None
depends_on = None


def upgrade():
    op.alter_column("idempotency_keys", "user_id", existing_type=sa.Integer(), nullable=True)
    op.create_index(
        "uq_idempotency_keys_anonymous_key",
        "idempotency_keys",
        ["key"],
        unique=True,
        postgresql_where=sa.text("user_id IS NULL"),
    )


def downgrade():
    op.drop_index(
        "uq_idempotency_keys_anonymous_key",
        table_name="idempotency_keys",
        postgresql_where=sa.text("user_id IS NULL"),
    )
    op.execute("DELETE FROM idempotency_keys WHERE user_id IS NULL")
    op.alter_column("idempotency_keys", "user_id", existing_type=sa.Integer(), nullable=False)

"""outbox: sending and superseded statuses

Revision ID: 7b522885b5a2
Revises: 36fdc2772bb5
Create Date: 2026-11-30 01:30:17.285619

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7b522885b5a2'
down_revision = '36fdc2772bb5'
branch_labels = None
depends_on = None


def upgrade():
    # a row is claimed ('sending') before it is sent, so that a second worker never sends it
    op.drop_constraint(op.f('ck_outbox_status'), 'outbox', type_='check')
    op.create_check_constraint(
        op.f('ck_outbox_status'), 'outbox', "status IN ('pending', 'sending', 'sent', 'failed', 'superseded')"
    )
    op.drop_index('ix_outbox_due', table_name='outbox')
    op.create_index(
        'ix_outbox_due', 'outbox', ['next_attempt_at'], unique=False,
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    )


def downgrade():
    # a row caught mid-send goes back to waiting: sent again, under the same Message-ID
    op.execute("UPDATE outbox SET status = 'pending' WHERE status = 'sending'")
    op.execute("UPDATE outbox SET status = 'sent' WHERE status = 'superseded'")
    op.drop_index('ix_outbox_due', table_name='outbox')
    op.create_index(
        'ix_outbox_due', 'outbox', ['next_attempt_at'], unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_constraint(op.f('ck_outbox_status'), 'outbox', type_='check')
    op.create_check_constraint(
        op.f('ck_outbox_status'), 'outbox', "status IN ('pending', 'sent', 'failed')"
    )

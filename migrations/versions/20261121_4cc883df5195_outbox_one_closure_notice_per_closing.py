"""outbox: one closure notice per closing

Revision ID: 4cc883df5195
Revises: d213ff82d250
Create Date: 2026-11-21 14:45:47.944446

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4cc883df5195'
down_revision = 'd213ff82d250'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('outbox', sa.Column('dedupe_key', sa.String(length=40), server_default='', nullable=False))
    op.drop_constraint(op.f('uq_outbox_event_request_recipient'), 'outbox', type_='unique')
    op.create_unique_constraint('uq_outbox_once', 'outbox', ['event', 'request_id', 'recipient', 'dedupe_key'])


def downgrade():
    op.drop_constraint('uq_outbox_once', 'outbox', type_='unique')
    # the old key allows one notice per event and recipient: keep the first of each
    op.execute(
        """
        DELETE FROM outbox o USING outbox keep
        WHERE o.event = keep.event AND o.request_id = keep.request_id
          AND o.recipient = keep.recipient AND o.id > keep.id
        """
    )
    op.create_unique_constraint(op.f('uq_outbox_event_request_recipient'), 'outbox', ['event', 'request_id', 'recipient'])
    op.drop_column('outbox', 'dedupe_key')

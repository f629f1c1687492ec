"""photos of staff notes: kinds note (public note) and internal (internal note)

Revision ID: b7d2c4e9f013
Revises: b7d2e4f1a903
Create Date: 2026-11-30 03:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7d2c4e9f013'
down_revision = 'b7d2e4f1a903'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_constraint(op.f('ck_photos_kind'), 'photos', type_='check')
    op.create_check_constraint(
        op.f('ck_photos_kind'),
        'photos',
        "kind IN ('report', 'before', 'after', 'note', 'internal')",
    )


def downgrade():
    # note photos go with the constraint that cannot hold them
    op.execute("DELETE FROM photos WHERE kind IN ('note', 'internal')")
    op.drop_constraint(op.f('ck_photos_kind'), 'photos', type_='check')
    op.create_check_constraint(
        op.f('ck_photos_kind'), 'photos', "kind IN ('report', 'before', 'after')"
    )

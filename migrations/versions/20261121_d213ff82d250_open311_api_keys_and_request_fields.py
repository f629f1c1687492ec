"""open311 api keys and request fields

Revision ID: d213ff82d250
Revises: 4be447600c5f
Create Date: 2026-11-21 14:24:39.955549

"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry

# revision identifiers, used by Alembic.
revision = 'd213ff82d250'
down_revision = '4be447600c5f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_geospatial_table('addresses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address_id', sa.String(length=100), nullable=False),
    sa.Column('address', sa.String(length=400), nullable=False),
    sa.Column('normalized', sa.String(length=400), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_addresses')),
    sa.UniqueConstraint('address_id', name=op.f('uq_addresses_address_id'))
    )
    op.create_index(op.f('ix_addresses_normalized'), 'addresses', ['normalized'], unique=False)
    op.create_table('open311_api_keys',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('client_name', sa.String(length=200), nullable=False),
    sa.Column('contact', sa.String(length=254), server_default='', nullable=False),
    sa.Column('key_prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_open311_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_open311_api_keys_key_hash'))
    )
    op.create_index(op.f('ix_open311_api_keys_key_prefix'), 'open311_api_keys', ['key_prefix'], unique=False)
    op.add_column('service_requests', sa.Column('address_id', sa.String(length=100), server_default='', nullable=False))
    op.add_column('service_requests', sa.Column('reporter_device_id', sa.String(length=200), server_default='', nullable=False))
    op.add_column('service_requests', sa.Column('reporter_account_id', sa.String(length=200), server_default='', nullable=False))
    op.add_column('service_requests', sa.Column('media_url', sa.Text(), server_default='', nullable=False))


def downgrade():
    op.drop_column('service_requests', 'media_url')
    op.drop_column('service_requests', 'reporter_account_id')
    op.drop_column('service_requests', 'reporter_device_id')
    op.drop_column('service_requests', 'address_id')
    op.drop_index(op.f('ix_open311_api_keys_key_prefix'), table_name='open311_api_keys')
    op.drop_table('open311_api_keys')
    op.drop_index(op.f('ix_addresses_normalized'), table_name='addresses')
    op.drop_geospatial_table('addresses')

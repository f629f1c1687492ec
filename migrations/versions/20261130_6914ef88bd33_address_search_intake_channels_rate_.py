"""Address search (pg_trgm indexes, intersections), social media links, Open311 key rate limits

Revision ID: 6914ef88bd33
Revises: 87733ed250ed
Create Date: 2026-11-30 03:11:26.123182

"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry

# revision identifiers, used by Alembic.
revision = '6914ef88bd33'
down_revision = '87733ed250ed'
branch_labels = None
depends_on = None


# the channels walk_in, email and social came with the imported-history migration


def upgrade():
    # trigram indexes need the extension; it ships with PostgreSQL (contrib)
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_geospatial_table('intersections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('street_a', sa.String(length=200), nullable=False),
    sa.Column('street_b', sa.String(length=200), nullable=False),
    sa.Column('normalized_a', sa.String(length=200), nullable=False),
    sa.Column('normalized_b', sa.String(length=200), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intersections')),
    sa.UniqueConstraint('normalized_a', 'normalized_b', name='uq_intersections_ab')
    )
    op.create_index('ix_intersections_normalized_a_trgm', 'intersections', ['normalized_a'], unique=False, postgresql_using='gin', postgresql_ops={'normalized_a': 'gin_trgm_ops'})
    op.create_index('ix_intersections_normalized_b_trgm', 'intersections', ['normalized_b'], unique=False, postgresql_using='gin', postgresql_ops={'normalized_b': 'gin_trgm_ops'})
    op.create_index('ix_addresses_normalized_trgm', 'addresses', ['normalized'], unique=False, postgresql_using='gin', postgresql_ops={'normalized': 'gin_trgm_ops'})
    op.add_column('open311_api_keys', sa.Column('rate_limit', sa.String(length=100), nullable=True))
    op.add_column('service_requests', sa.Column('source_url', sa.Text(), server_default='', nullable=False))


def downgrade():
    op.drop_column('service_requests', 'source_url')
    op.drop_column('open311_api_keys', 'rate_limit')
    op.drop_index('ix_addresses_normalized_trgm', table_name='addresses', postgresql_using='gin', postgresql_ops={'normalized': 'gin_trgm_ops'})
    op.drop_index('ix_intersections_normalized_b_trgm', table_name='intersections', postgresql_using='gin', postgresql_ops={'normalized_b': 'gin_trgm_ops'})
    op.drop_index('ix_intersections_normalized_a_trgm', table_name='intersections', postgresql_using='gin', postgresql_ops={'normalized_a': 'gin_trgm_ops'})
    op.drop_geospatial_table('intersections')
    # pg_trgm stays: other objects may use it, and it is harmless

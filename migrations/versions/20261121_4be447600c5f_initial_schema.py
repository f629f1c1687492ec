"""initial schema

Revision ID: 4be447600c5f
Revises: 
Create Date: 2026-11-21 14:18:05.838402

"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '4be447600c5f'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    # PostGIS is installed by the setup scripts; the extension is enabled per database here.
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table('departments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_departments')),
    sa.UniqueConstraint('code', name=op.f('uq_departments_code'))
    )
    op.create_geospatial_table('districts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_districts')),
    sa.UniqueConstraint('kind', 'code', name='uq_districts_kind_code')
    )
    op.create_geospatial_index('idx_districts_geom', 'districts', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_table('crews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_crews_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crews')),
    sa.UniqueConstraint('name', name=op.f('uq_crews_name'))
    )
    op.create_index(op.f('ix_crews_department_id'), 'crews', ['department_id'], unique=False)
    op.create_table('service_types',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('group', sa.String(length=100), server_default='', nullable=False),
    sa.Column('keywords', sa.String(length=400), server_default='', nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('sla_value', sa.Integer(), nullable=False),
    sa.Column('sla_unit', sa.String(length=20), server_default='hours', nullable=False),
    sa.Column('attributes', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('completion_photo_required', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.CheckConstraint("sla_unit IN ('hours', 'business_days')", name=op.f('ck_service_types_sla_unit')),
    sa.CheckConstraint('sla_value > 0', name=op.f('ck_service_types_sla_value_positive')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_service_types_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_types')),
    sa.UniqueConstraint('code', name=op.f('uq_service_types_code'))
    )
    op.create_index(op.f('ix_service_types_department_id'), 'service_types', ['department_id'], unique=False)
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('crew_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("role IN ('agent', 'dispatcher', 'crew', 'manager', 'admin')", name=op.f('ck_users_role')),
    sa.ForeignKeyConstraint(['crew_id'], ['crews.id'], name=op.f('fk_users_crew_id_crews')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_users_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_index(op.f('ix_api_tokens_user_id'), 'api_tokens', ['user_id'], unique=False)
    op.create_geospatial_table('service_requests',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('service_type_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('location', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('address', sa.String(length=400), server_default='', nullable=False),
    sa.Column('status', sa.String(length=20), server_default='new', nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('reporter_name', sa.String(length=200), server_default='', nullable=False),
    sa.Column('reporter_email', sa.String(length=254), server_default='', nullable=False),
    sa.Column('reporter_phone', sa.String(length=40), server_default='', nullable=False),
    sa.Column('attributes', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closure_reason', sa.String(length=30), nullable=True),
    sa.Column('closure_note', sa.Text(), server_default='', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('parent_id', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name=op.f('ck_service_requests_closed_has_time')),
    sa.CheckConstraint("channel IN ('web', 'phone', 'api', 'mobile', 'open311', 'import')", name=op.f('ck_service_requests_channel')),
    sa.CheckConstraint("closure_reason IS NULL OR closure_reason IN ('fixed', 'no_action_needed', 'duplicate', 'referred', 'could_not_locate')", name=op.f('ck_service_requests_closure_reason')),
    sa.CheckConstraint("status IN ('new', 'acknowledged', 'assigned', 'in_progress', 'on_hold', 'closed')", name=op.f('ck_service_requests_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_service_requests_created_by_id_users')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_service_requests_department_id_departments')),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_service_requests_district_id_districts')),
    sa.ForeignKeyConstraint(['parent_id'], ['service_requests.id'], name=op.f('fk_service_requests_parent_id_service_requests')),
    sa.ForeignKeyConstraint(['service_type_id'], ['service_types.id'], name=op.f('fk_service_requests_service_type_id_service_types')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_requests'))
    )
    op.create_geospatial_index('idx_service_requests_location', 'service_requests', ['location'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_service_requests_district_id'), 'service_requests', ['district_id'], unique=False)
    op.create_index('ix_service_requests_open_queue', 'service_requests', ['department_id', 'due_at'], unique=False, postgresql_where=sa.text("status <> 'closed'"))
    op.create_index('ix_service_requests_requested_at', 'service_requests', ['requested_at'], unique=False)
    op.create_index(op.f('ix_service_requests_service_type_id'), 'service_requests', ['service_type_id'], unique=False)
    op.create_index('ix_service_requests_updated_at', 'service_requests', ['updated_at'], unique=False)
    op.create_table('work_orders',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('crew_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='assigned', nullable=False),
    sa.Column('instructions', sa.Text(), server_default='', nullable=False),
    sa.Column('completion_note', sa.Text(), server_default='', nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('assigned', 'in_progress', 'completed', 'cancelled')", name=op.f('ck_work_orders_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_work_orders_created_by_id_users')),
    sa.ForeignKeyConstraint(['crew_id'], ['crews.id'], name=op.f('fk_work_orders_crew_id_crews')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_work_orders_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_orders'))
    )
    op.create_index('ix_work_orders_crew_open', 'work_orders', ['crew_id'], unique=False, postgresql_where=sa.text("status IN ('assigned', 'in_progress')"))
    op.create_index(op.f('ix_work_orders_department_id'), 'work_orders', ['department_id'], unique=False)
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('event', sa.String(length=30), nullable=False),
    sa.Column('request_id', sa.BigInteger(), nullable=True),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('channel', sa.String(length=10), server_default='email', nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('status', sa.String(length=10), server_default='pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_error', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("channel IN ('email')", name=op.f('ck_outbox_channel')),
    sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name=op.f('ck_outbox_status')),
    sa.ForeignKeyConstraint(['request_id'], ['service_requests.id'], name=op.f('fk_outbox_request_id_service_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('event', 'request_id', 'recipient', name='uq_outbox_event_request_recipient')
    )
    op.create_index('ix_outbox_due', 'outbox', ['next_attempt_at'], unique=False, postgresql_where=sa.text("status = 'pending'"))
    op.create_index(op.f('ix_outbox_request_id'), 'outbox', ['request_id'], unique=False)
    op.create_table('photos',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('request_id', sa.BigInteger(), nullable=True),
    sa.Column('work_order_id', sa.BigInteger(), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('bytes', sa.Integer(), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('report', 'before', 'after')", name=op.f('ck_photos_kind')),
    sa.ForeignKeyConstraint(['request_id'], ['service_requests.id'], name=op.f('fk_photos_request_id_service_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], name=op.f('fk_photos_work_order_id_work_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photos')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_photos_stored_name'))
    )
    op.create_index(op.f('ix_photos_request_id'), 'photos', ['request_id'], unique=False)
    op.create_index(op.f('ix_photos_work_order_id'), 'photos', ['work_order_id'], unique=False)
    op.create_table('request_events',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('request_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=True),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('public', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.CheckConstraint("kind IN ('created', 'routed', 'acknowledged', 'assigned', 'status_changed', 'note', 'reopened', 'merged', 'closed')", name=op.f('ck_request_events_kind')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_request_events_actor_id_users')),
    sa.ForeignKeyConstraint(['request_id'], ['service_requests.id'], name=op.f('fk_request_events_request_id_service_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_events'))
    )
    op.create_index('ix_request_events_at', 'request_events', ['at'], unique=False)
    op.create_index('ix_request_events_request_id_id', 'request_events', ['request_id', 'id'], unique=False)
    op.create_table('work_order_requests',
    sa.Column('work_order_id', sa.BigInteger(), nullable=False),
    sa.Column('request_id', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['service_requests.id'], name=op.f('fk_work_order_requests_request_id_service_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], name=op.f('fk_work_order_requests_work_order_id_work_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('work_order_id', 'request_id', name=op.f('pk_work_order_requests'))
    )
    op.create_index(op.f('ix_work_order_requests_request_id'), 'work_order_requests', ['request_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_work_order_requests_request_id'), table_name='work_order_requests')
    op.drop_table('work_order_requests')
    op.drop_index('ix_request_events_request_id_id', table_name='request_events')
    op.drop_index('ix_request_events_at', table_name='request_events')
    op.drop_table('request_events')
    op.drop_index(op.f('ix_photos_work_order_id'), table_name='photos')
    op.drop_index(op.f('ix_photos_request_id'), table_name='photos')
    op.drop_table('photos')
    op.drop_index(op.f('ix_outbox_request_id'), table_name='outbox')
    op.drop_index('ix_outbox_due', table_name='outbox', postgresql_where=sa.text("status = 'pending'"))
    op.drop_table('outbox')
    op.drop_index(op.f('ix_work_orders_department_id'), table_name='work_orders')
    op.drop_index('ix_work_orders_crew_open', table_name='work_orders', postgresql_where=sa.text("status IN ('assigned', 'in_progress')"))
    op.drop_table('work_orders')
    op.drop_index('ix_service_requests_updated_at', table_name='service_requests')
    op.drop_index(op.f('ix_service_requests_service_type_id'), table_name='service_requests')
    op.drop_index('ix_service_requests_requested_at', table_name='service_requests')
    op.drop_index('ix_service_requests_open_queue', table_name='service_requests', postgresql_where=sa.text("status <> 'closed'"))
    op.drop_index(op.f('ix_service_requests_district_id'), table_name='service_requests')
    op.drop_geospatial_index('idx_service_requests_location', table_name='service_requests', postgresql_using='gist', column_name='location')
    op.drop_geospatial_table('service_requests')
    op.drop_index(op.f('ix_api_tokens_user_id'), table_name='api_tokens')
    op.drop_table('api_tokens')
    op.drop_table('users')
    op.drop_index(op.f('ix_service_types_department_id'), table_name='service_types')
    op.drop_table('service_types')
    op.drop_index(op.f('ix_crews_department_id'), table_name='crews')
    op.drop_table('crews')
    op.drop_geospatial_index('idx_districts_geom', table_name='districts', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('districts')
    op.drop_table('departments')

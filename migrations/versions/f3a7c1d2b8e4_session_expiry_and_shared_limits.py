"""session expiry, users.password_changed_at, rate limit counters in the database

Revision ID: f3a7c1d2b8e4
Revises: e2b8d4c6a915
Create Date: 2026-12-08 09:00:00

Existing sessions count as last seen at their login: those idle longer than the timeout
end at their next request.
"""
from alembic import op
import sqlalchemy as sa


revision = 'f3a7c1d2b8e4'
down_revision = 'e2b8d4c6a915'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seen_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE user_sessions SET last_seen_at = created_at")
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.alter_column('last_seen_at', existing_type=sa.DateTime(), nullable=False)
        batch_op.create_index(batch_op.f('ix_user_sessions_last_seen_at'), ['last_seen_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_sessions_created_at'), ['created_at'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_changed_at', sa.DateTime(), nullable=True))
    op.create_table('rate_limit_counters',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limit_counters'))
    )
    with op.batch_alter_table('rate_limit_counters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_limit_counters_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('rate_limit_counters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_limit_counters_expires_at'))
    op.drop_table('rate_limit_counters')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('password_changed_at')
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_created_at'))
        batch_op.drop_index(batch_op.f('ix_user_sessions_last_seen_at'))
        batch_op.drop_column('last_seen_at')

"""change log versions on order_activity; revenue_buckets

Revision ID: a3f1c2d4e5b6
Revises: 88b36b5abd84
Create Date: 2026-11-28 09:30:00

Activity rows written from now on carry the order_counts version they committed as (older
rows keep NULL: they are history, never replayed). revenue_buckets is filled from the
orders already there, with one GROUP BY.
"""
from alembic import op
import sqlalchemy as sa


revision = 'a3f1c2d4e5b6'
down_revision = '88b36b5abd84'
branch_labels = None
depends_on = None

BUCKET_SECONDS = 900


def upgrade():
    with op.batch_alter_table('order_activity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f('ix_order_activity_version'), ['version'], unique=False)

    op.create_table('revenue_buckets',
    sa.Column('bucket_start', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('revenue', sa.BigInteger(), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('bucket_start', name=op.f('pk_revenue_buckets'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        seconds = "CAST(FLOOR(EXTRACT(EPOCH FROM date_ordered)) AS BIGINT)"
    else:
        seconds = "CAST(strftime('%s', date_ordered) AS INTEGER)"
    bucket = f"({seconds} - {seconds} % {BUCKET_SECONDS})"
    op.execute(
        "INSERT INTO revenue_buckets (bucket_start, revenue, orders) "
        f"SELECT {bucket}, SUM(CASE WHEN cancelled THEN 0 ELSE total_credits END), COUNT(*) "
        f"FROM orders GROUP BY {bucket}"
    )


def downgrade():
    op.drop_table('revenue_buckets')
    with op.batch_alter_table('order_activity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_activity_version'))
        batch_op.drop_column('version')

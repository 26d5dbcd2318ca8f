"""search indexes: order_items.product_id; pg_trgm GIN on order numbers, usernames,
emails and product names (PostgreSQL only)

Revision ID: b1e5c7d9a2f4
Revises: f3a7c1d2b8e4
Create Date: 2026-12-08 10:00:00

A substring search (ILIKE '%text%') of the orders table then reads these indexes instead of
every row. pg_trgm ships with PostgreSQL (a trusted extension: the database owner may create
it). On a large shop build them while it is quiet: GIN indexes take a while to make.
"""
from alembic import op
import sqlalchemy as sa


revision = 'b1e5c7d9a2f4'
down_revision = 'f3a7c1d2b8e4'
branch_labels = None
depends_on = None

TRIGRAM = (
    ('orders', 'order_number'),
    ('users', 'username'),
    ('users', 'email'),
    ('products', 'name'),
)


def upgrade():
    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_items_product_id'), ['product_id'], unique=False)
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    for table, column in TRIGRAM:
        op.create_index(
            f'ix_{table}_{column}_trgm', table, [column], unique=False,
            postgresql_using='gin', postgresql_ops={column: 'gin_trgm_ops'},
        )


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for table, column in TRIGRAM:
            op.drop_index(f'ix_{table}_{column}_trgm', table_name=table)
    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_items_product_id'))

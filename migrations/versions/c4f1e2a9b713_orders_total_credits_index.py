"""orders: index on (total_credits, id) for sorting the orders table by total

Revision ID: c4f1e2a9b713
Revises: b7d2e9f0a1c3
Create Date: 2026-11-28 09:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c4f1e2a9b713'
down_revision = 'b7d2e9f0a1c3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_orders_total_credits_id', 'orders', ['total_credits', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_orders_total_credits_id', table_name='orders')

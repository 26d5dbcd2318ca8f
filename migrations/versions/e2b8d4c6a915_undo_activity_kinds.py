"""order_activity: the kinds of an undo (status_undone, cancel_undone)

An undo is its own activity entry: the CHECK constraint on ``kind`` gains the two
kinds. SQLite cannot alter a constraint: batch mode rebuilds the table (render_as_batch).

Revision ID: e2b8d4c6a915
Revises: c4f1e2a9b713
Create Date: 2026-11-29 10:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e2b8d4c6a915'
down_revision = 'c4f1e2a9b713'
branch_labels = None
depends_on = None

NAME = 'ck_order_activity_activity_kind_known'
OLD = "kind IN ('created', 'status', 'cancelled')"
NEW = "kind IN ('created', 'status', 'cancelled', 'status_undone', 'cancel_undone')"


def upgrade():
    with op.batch_alter_table('order_activity', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(NAME), type_='check')
        batch_op.create_check_constraint(op.f(NAME), NEW)


def downgrade():
    # Undo entries cannot be expressed in the old kinds: they go (the orders keep the state
    # the undo left them in, and the counters stay right: they count orders, not entries).
    op.execute("DELETE FROM order_activity WHERE kind IN ('status_undone', 'cancel_undone')")
    with op.batch_alter_table('order_activity', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(NAME), type_='check')
        batch_op.create_check_constraint(op.f(NAME), OLD)

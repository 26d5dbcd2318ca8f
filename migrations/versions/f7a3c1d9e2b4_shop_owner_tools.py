"""The shop owner's tools: stock and images on products, notes, tags, saved views, tracking
numbers and partial refunds on orders, and their activity kinds

- ``products``: ``stock`` (NULL: not tracked; never negative), ``image_url``, ``version``
  (the ``order_counts`` version of the last stock change, indexed: the hub's "which products
  changed since V").
- ``orders``: ``refunded_credits`` (0..``total_credits``), ``carrier``, ``tracking_number``.
- ``order_activity``: kinds ``note``, ``note_edited``, ``note_deleted``, ``tagged``,
  ``refunded``; ``note`` widened to 1,000 characters (a note's text); ``ref_id`` (the note an
  entry is about), ``credits`` (a refund's amount).
- ``order_notes``, ``order_tags`` (indexed by tag), ``saved_views``.

SQLite cannot alter a constraint or a column's type: batch mode rebuilds those tables.

Revision ID: f7a3c1d9e2b4
Revises: b1e5c7d9a2f4
Create Date: 2026-12-07 06:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f7a3c1d9e2b4'
down_revision = 'b1e5c7d9a2f4'
branch_labels = None
depends_on = None

KIND = 'ck_order_activity_activity_kind_known'
OLD_KINDS = "kind IN ('created', 'status', 'cancelled', 'status_undone', 'cancel_undone')"
NEW_KINDS = (
    "kind IN ('created', 'status', 'cancelled', 'status_undone', 'cancel_undone', 'note', "
    "'note_edited', 'note_deleted', 'tagged', 'refunded')"
)


def upgrade():
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stock', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('image_url', sa.String(length=500), nullable=True))
        batch_op.add_column(
            sa.Column('version', sa.BigInteger(), server_default='0', nullable=False)
        )
        batch_op.create_index(batch_op.f('ix_products_version'), ['version'], unique=False)
        batch_op.create_check_constraint(
            op.f('ck_products_stock_non_negative'), 'stock IS NULL OR stock >= 0'
        )

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('refunded_credits', sa.Integer(), server_default='0', nullable=False)
        )
        batch_op.add_column(sa.Column('carrier', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('tracking_number', sa.String(length=40), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_orders_refunded_within_total'),
            'refunded_credits >= 0 AND refunded_credits <= total_credits',
        )

    with op.batch_alter_table('order_activity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ref_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('credits', sa.Integer(), nullable=True))
        batch_op.alter_column(
            'note', existing_type=sa.String(length=300), type_=sa.String(length=1000)
        )
        batch_op.drop_constraint(op.f(KIND), type_='check')
        batch_op.create_check_constraint(op.f(KIND), NEW_KINDS)

    op.create_table(
        'order_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('text', sa.String(length=1000), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('deleted', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ['author_id'], ['users.id'], name=op.f('fk_order_notes_author_id_users'),
            ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['order_id'], ['orders.id'], name=op.f('fk_order_notes_order_id_orders'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_order_notes')),
    )
    op.create_index(op.f('ix_order_notes_order_id'), 'order_notes', ['order_id'], unique=False)

    op.create_table(
        'order_tags',
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('tag', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ['order_id'], ['orders.id'], name=op.f('fk_order_tags_order_id_orders'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('order_id', 'tag', name=op.f('pk_order_tags')),
    )
    op.create_index(op.f('ix_order_tags_tag'), 'order_tags', ['tag'], unique=False)

    op.create_table(
        'saved_views',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('query', sa.String(length=600), nullable=False),
        sa.Column('shared', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['owner_id'], ['users.id'], name=op.f('fk_saved_views_owner_id_users'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_views')),
        sa.UniqueConstraint('owner_id', 'name', name='uq_saved_views_owner_name'),
    )
    op.create_index(op.f('ix_saved_views_owner_id'), 'saved_views', ['owner_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_saved_views_owner_id'), table_name='saved_views')
    op.drop_table('saved_views')
    op.drop_index(op.f('ix_order_tags_tag'), table_name='order_tags')
    op.drop_table('order_tags')
    op.drop_index(op.f('ix_order_notes_order_id'), table_name='order_notes')
    op.drop_table('order_notes')

    # The new kinds cannot be expressed in the old ones: their entries go (the orders keep
    # their state; a refund stays in the balance it was paid into).
    op.execute(
        "DELETE FROM order_activity WHERE kind IN "
        "('note', 'note_edited', 'note_deleted', 'tagged', 'refunded')"
    )
    op.execute("UPDATE order_activity SET note = substr(note, 1, 300)")
    with op.batch_alter_table('order_activity', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(KIND), type_='check')
        batch_op.create_check_constraint(op.f(KIND), OLD_KINDS)
        batch_op.alter_column(
            'note', existing_type=sa.String(length=1000), type_=sa.String(length=300)
        )
        batch_op.drop_column('credits')
        batch_op.drop_column('ref_id')

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_orders_refunded_within_total'), type_='check')
        batch_op.drop_column('tracking_number')
        batch_op.drop_column('carrier')
        batch_op.drop_column('refunded_credits')

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_products_stock_non_negative'), type_='check')
        batch_op.drop_index(batch_op.f('ix_products_version'))
        batch_op.drop_column('version')
        batch_op.drop_column('image_url')
        batch_op.drop_column('stock')

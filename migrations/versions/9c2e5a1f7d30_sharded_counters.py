"""sharded counters: order_counts and revenue_buckets by (key, shard); order_versions

Every order write used to add to the same ``order_counts`` rows and the same revenue bucket
row, whose locks it then held until COMMIT: concurrent checkouts queued on them. Counters
become ``SHARDS`` rows each (a write adds to one shard, a read sums them), and the change
version, the one value that must stay a single row, moves to ``order_versions``.

Data: the rows there are become shard 0, so every counter and bucket keeps its values (a
bucket's revenue, orders and cancelled), and
the ``total`` row's version becomes ``order_versions``' one row. Downgrade sums the shards
back into one row per counter and bucket and puts the version back on ``total``.

Revision ID: 9c2e5a1f7d30
Revises: c8e2f4a6b1d3
Create Date: 2026-12-07 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '9c2e5a1f7d30'
down_revision = 'c8e2f4a6b1d3'
branch_labels = None
depends_on = None

# (table, the key before the shard, the summed columns)
SHARDED = (
    ('order_counts', 'name', ('count',)),
    ('revenue_buckets', 'bucket_start', ('revenue', 'orders', 'cancelled')),
)


def upgrade():
    op.create_table('order_versions',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_versions'))
    )
    op.execute(
        "INSERT INTO order_versions (id, version) SELECT 1, COALESCE(MAX(version), 0) "
        "FROM order_counts WHERE name = 'total'"
    )
    for table, key, _ in SHARDED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column('shard', sa.SmallInteger(), nullable=False, server_default='0')
            )
            batch_op.drop_constraint(f'pk_{table}', type_='primary')
            batch_op.create_primary_key(f'pk_{table}', [key, 'shard'])
            if table == 'order_counts':
                batch_op.drop_column('version')
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('shard', server_default=None)


def downgrade():
    for table, key, columns in SHARDED:
        # One row per key at shard 0 holding the sum of its shards, then the others go.
        op.execute(
            f"INSERT INTO {table} ({key}, shard, {', '.join(columns)}) "
            f"SELECT DISTINCT {key}, 0, {', '.join('0' for _ in columns)} FROM {table} "
            f"WHERE {key} NOT IN (SELECT {key} FROM {table} WHERE shard = 0)"
        )
        sums = ", ".join(
            f"{c} = (SELECT SUM(s.{c}) FROM {table} s WHERE s.{key} = {table}.{key})"
            for c in columns
        )
        op.execute(f"UPDATE {table} SET {sums} WHERE shard = 0")
        op.execute(f"DELETE FROM {table} WHERE shard <> 0")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'pk_{table}', type_='primary')
            batch_op.create_primary_key(f'pk_{table}', [key])
            batch_op.drop_column('shard')
            if table == 'order_counts':
                batch_op.add_column(
                    sa.Column('version', sa.BigInteger(), nullable=False, server_default='0')
                )
    op.execute(
        "UPDATE order_counts SET version = "
        "(SELECT COALESCE(MAX(version), 0) FROM order_versions) WHERE name = 'total'"
    )
    with op.batch_alter_table('order_counts', schema=None) as batch_op:
        batch_op.alter_column('version', server_default=None)
    op.drop_table('order_versions')

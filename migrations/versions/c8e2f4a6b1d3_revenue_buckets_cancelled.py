"""revenue_buckets.cancelled: how many of a bucket's orders are cancelled now

The dashboard's revenue line ("X credits in N orders") counts live orders only, as the
status cards and the CSV do; a bucket's ``orders`` stays every order placed in it, and
``orders - cancelled`` is the live ones. Filled from the orders already there with one
GROUP BY (buckets that do not exist yet are left to ``flask reconcile-counts``).

Revision ID: c8e2f4a6b1d3
Revises: f7a3c1d9e2b4
Create Date: 2026-12-07 09:30:00.000000

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "c8e2f4a6b1d3"
down_revision = "f7a3c1d9e2b4"
branch_labels = None
depends_on = None

BUCKET_SECONDS = 900


def upgrade():
    with op.batch_alter_table("revenue_buckets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cancelled", sa.Integer(), server_default="0", nullable=False)
        )
    if op.get_bind().dialect.name == "postgresql":
        seconds = "CAST(FLOOR(EXTRACT(EPOCH FROM date_ordered)) AS BIGINT)"
    else:
        seconds = "CAST(strftime('%s', date_ordered) AS INTEGER)"
    bucket = f"({seconds} - {seconds} % {BUCKET_SECONDS})"
    # One pass over the cancelled orders (UPDATE ... FROM: PostgreSQL, SQLite 3.33+).
    op.execute(
        "UPDATE revenue_buckets SET cancelled = c.n FROM ("
        f"SELECT {bucket} AS b, COUNT(*) AS n FROM orders WHERE cancelled GROUP BY {bucket}"
        ") AS c WHERE c.b = revenue_buckets.bucket_start"
    )


def downgrade():
    with op.batch_alter_table("revenue_buckets", schema=None) as batch_op:
        batch_op.drop_column("cancelled")

"""Revenue per 15-minute UTC bucket, kept in the same transaction as every order write, so
the dashboard's "today vs yesterday" needs no ``GROUP BY`` over orders (docs/design.md §1)."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db

# Every time zone in use is a whole number of quarter hours from UTC (+5:30, +5:45, -9:30…),
# so a 15-minute UTC bucket always falls inside one local hour, whatever zone a page shows.
BUCKET_SECONDS = 15 * 60


class RevenueBucket(db.Model):
    """One shard of the orders placed in one 15-minute UTC bucket.

    ``bucket_start`` is the bucket's start in Unix seconds (a multiple of ``BUCKET_SECONDS``);
    ``revenue`` the credits those orders kept: not cancelled (a cancellation refunds them),
    less partial refunds; ``orders`` how many were placed, cancelled or not;
    ``cancelled`` how many of those are cancelled now (``orders - cancelled`` are live: the
    dashboard's "X credits in N orders" counts those, as the status cards do). A bucket is the
    sum of its shards (``app.models.counts.SHARDS`` at most, the shard a write picked), so
    concurrent checkouts in one quarter hour do not queue on one row.
    """

    __tablename__ = "revenue_buckets"

    bucket_start: so.Mapped[int] = so.mapped_column(
        sa.BigInteger, primary_key=True, autoincrement=False
    )
    shard: so.Mapped[int] = so.mapped_column(
        sa.SmallInteger, primary_key=True, autoincrement=False, default=0
    )
    revenue: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    orders: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    cancelled: so.Mapped[int] = so.mapped_column(sa.Integer, default=0, server_default="0")

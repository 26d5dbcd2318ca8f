"""O(1) counters kept in the same transaction as every order write (docs/design.md §1).

Counters are **sharded**: each counter is ``SHARDS`` rows (one per shard, made on first
use) and its value is their sum. A transaction adds to one shard picked at random
(``app.services.counts.shard``), so concurrent order writes rarely wait on each other's row
lock; a read sums at most ``SHARDS`` rows per counter, whatever the number of orders.

The change version is the one value that must be a single row: it numbers commits in
commit order (the SSE ``id:``, the change log's "since version V"), so its row's lock is
what orders them. Writers take it last, in the statement before COMMIT
(``app.services.changes.record_change``), so it is held for one statement and the commit.
"""

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db

# Row names: one per status, plus these two.
TOTAL = "total"
CANCELLED = "cancelled"
# Shards per counter: above the order writes one host runs at once (2 workers x
# ORDER_WRITE_CONCURRENCY 4), so two of them rarely pick the same row.
SHARDS = 16
VERSION_ROW = 1


class OrderCount(db.Model):
    """One shard of one counter: a status, ``total`` or ``cancelled``.

    Status counters count orders that are *not* cancelled, so ``total`` equals the sum of
    the status counters plus ``cancelled``. A counter is the sum of its shards' ``count``.
    """

    __tablename__ = "order_counts"

    name: so.Mapped[str] = so.mapped_column(sa.String(20), primary_key=True)
    shard: so.Mapped[int] = so.mapped_column(
        sa.SmallInteger, primary_key=True, autoincrement=False, default=0
    )
    count: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)


class OrderVersion(db.Model):
    """The one row (``id`` 1) whose ``version`` rises by one with every order or catalogue
    write: the SSE ``id:`` and the change log's clock."""

    __tablename__ = "order_versions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    version: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)

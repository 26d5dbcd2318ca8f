"""O(1) counters kept in the same transaction as every order write (docs/design.md §1)."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db

# Row names: one per status, plus these two.
TOTAL = "total"
CANCELLED = "cancelled"


class OrderCount(db.Model):
    """One row per status plus ``total`` and ``cancelled``.

    Status rows count orders that are *not* cancelled, so ``total`` equals the sum of the
    status rows plus ``cancelled``. The ``total`` row's ``version`` rises by one with every
    order write and is the SSE ``id:``; the other rows' ``version`` is unused.
    """

    __tablename__ = "order_counts"

    name: so.Mapped[str] = so.mapped_column(sa.String(20), primary_key=True)
    count: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    version: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)

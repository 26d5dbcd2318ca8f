"""Tags on orders: short labels admins filter, search and act on (``tag=`` in the view)."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db


class OrderTag(db.Model):
    """One tag of one order. ``tag`` is normalised (``app/services/tags.py``): lower case,
    1..32 characters. The index on ``tag`` serves ``tag=`` filters (an ``EXISTS`` per order
    row becomes an index lookup)."""

    __tablename__ = "order_tags"

    order_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    tag: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True, index=True)

    def __repr__(self) -> str:
        return f"<OrderTag {self.order_id} {self.tag}>"

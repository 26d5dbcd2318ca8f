"""Orders and their items (docs/design.md §3, the seed contract's names)."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models._search import trigram_index
from app.models.timestamps import utcnow

# Status moves only forward, in this order.
ORDER_STATUSES = ("Pending", "Shipped", "Out for Delivery", "Delivered")
DELIVERY_METHODS = ("home delivery", "pickup")


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "idempotency_key", name="uq_orders_user_idempotency"),
        sa.CheckConstraint("total_credits >= 0", name="total_non_negative"),
        # Partial refunds never exceed what was paid (two refunds racing for the remainder:
        # the second one's conditional UPDATE finds nothing left).
        sa.CheckConstraint(
            "refunded_credits >= 0 AND refunded_credits <= total_credits",
            name="refunded_within_total",
        ),
        # The orders table sorts by total (ties by id): one index scan for the first page,
        # instead of sorting every order (a million in the benchmark).
        sa.Index("ix_orders_total_credits_id", "total_credits", "id"),
        trigram_index("orders", "order_number"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    order_number: so.Mapped[str] = so.mapped_column(sa.String(20), unique=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(20), default="Pending", index=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    delivery_method: so.Mapped[str] = so.mapped_column(sa.String(20))
    delivery_address: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    date_ordered: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    estimated_delivery_date: so.Mapped[datetime | None]
    actual_delivery_date: so.Mapped[datetime | None]
    total_credits: so.Mapped[int] = so.mapped_column(default=0)
    cancelled: so.Mapped[bool] = so.mapped_column(default=False)
    cancellation_reason: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    # Indexed: the hub asks for "changed in the last 30 s" on every tick.
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    idempotency_key: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    request_fingerprint: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    # Credits given back by partial refunds (a cancel then refunds the rest).
    refunded_credits: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    # Set by the move to Shipped (app/services/tracking.py).
    carrier: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    tracking_number: so.Mapped[str | None] = so.mapped_column(sa.String(40))

    customer = so.relationship("User", back_populates="orders")
    items: so.Mapped[list["OrderItem"]] = so.relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id"
    )
    tag_rows: so.Mapped[list["OrderTag"]] = so.relationship(  # noqa: F821
        cascade="all, delete-orphan", order_by="OrderTag.tag", passive_deletes=True
    )

    @property
    def tags(self) -> list[str]:
        """The order's tags, alphabetical."""
        return [row.tag for row in self.tag_rows]

    @property
    def refundable_credits(self) -> int:
        """What a partial refund may still give back: nothing once cancelled (the cancel
        refunded the rest)."""
        return 0 if self.cancelled else self.total_credits - (self.refunded_credits or 0)

    @property
    def next_status(self) -> str | None:
        """The status one step forward, or ``None`` when delivered or cancelled."""
        if self.cancelled:
            return None
        index = ORDER_STATUSES.index(self.status)
        return ORDER_STATUSES[index + 1] if index + 1 < len(ORDER_STATUSES) else None

    def __repr__(self) -> str:
        return f"<Order {self.order_number} {self.status}>"


class OrderItem(db.Model):
    __tablename__ = "order_items"
    __table_args__ = (sa.CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    order_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("orders.id"), index=True)
    # Indexed: a search by product name finds its orders through their items.
    product_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("products.id"), index=True)
    quantity: so.Mapped[int] = so.mapped_column(default=1)
    # Price at the time of the order: a later catalogue change must not rewrite history.
    credit_value: so.Mapped[int]

    order: so.Mapped[Order] = so.relationship(back_populates="items")
    product = so.relationship("Product")

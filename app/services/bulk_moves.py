"""The writes of a bulk action, set-based: many orders advanced or cancelled in a few
statements of one transaction, with the same effects as ``status.change_status`` and
``status.cancel_order`` order by order (status, timestamps, stock, refunds, revenue,
counters, one activity entry and one version per order, the outbox).

Every function takes orders the caller has locked (``lock_orders``: ``SELECT ... FOR
UPDATE`` in id order, so two bulk actions on overlapping orders queue instead of
deadlocking) and has checked (the status shown, the move allowed). Locks are then taken in
the single-order services' order: orders, products (by id), customers (by id), revenue
buckets (by start), the counters.
"""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models import ORDER_STATUSES, Order, OrderItem, Product, User
from app.models.counts import CANCELLED
from app.services import credits, stock
from app.services.changes import Move, record_changes


def lock_orders(ids, with_items: bool = False) -> dict[int, Order]:
    """The orders among ``ids``, locked until the transaction ends and read as they are now,
    with their customers and tags (and their items' products, for a cancel) loaded in a
    few queries: ``{id: order}``. SQLite has no row locks; its single writer serialises
    the transaction instead."""
    query = (
        sa.select(Order)
        .options(so.joinedload(Order.customer), so.selectinload(Order.tag_rows))
        .where(Order.id.in_(ids))
        .order_by(Order.id)
        .with_for_update(of=Order)
        .execution_options(populate_existing=True)
    )
    if with_items:
        query = query.options(so.selectinload(Order.items).joinedload(OrderItem.product))
    return {order.id: order for order in db.session.scalars(query).unique()}


def _claim_all(orders: list[Order], values_of) -> tuple[list[Order], list[Order]]:
    """One conditional ``UPDATE ... RETURNING id`` per status among ``orders`` (at most
    three), each applying ``values_of(status)`` to the orders still in that status and not
    cancelled. Returns ``(claimed, raced)``, both in the order of ``orders``: ``raced``
    changed after they were read (possible only where rows are not locked)."""
    by_status: dict[str, list[Order]] = {}
    for order in orders:
        by_status.setdefault(order.status, []).append(order)
    claimed_ids: set[int] = set()
    for status in sorted(by_status, key=ORDER_STATUSES.index):
        values = values_of(status)
        claimed_ids.update(
            db.session.scalars(
                sa.update(Order)
                .where(
                    Order.id.in_([o.id for o in by_status[status]]),
                    Order.status == status,
                    Order.cancelled.is_(False),
                )
                .values(**values)
                .returning(Order.id)
                .execution_options(synchronize_session=False)
            )
        )
        for order in by_status[status]:
            if order.id in claimed_ids:
                for key, value in values.items():
                    so.attributes.set_committed_value(order, key, value)
    claimed = [o for o in orders if o.id in claimed_ids]
    return claimed, [o for o in orders if o.id not in claimed_ids]


def advance_all(orders: list[Order], actor: User | None, now: datetime):
    """Move each of ``orders`` (locked, not cancelled, not delivered) one step forward, as
    ``change_status`` would: ``updated_at`` now, ``actual_delivery_date`` on Delivered.
    Returns ``(moved, raced)`` (``_claim_all``)."""
    froms = {o.id: o.status for o in orders}

    def values_of(status: str) -> dict:
        after = ORDER_STATUSES[ORDER_STATUSES.index(status) + 1]
        values = {"status": after, "updated_at": now}
        if after == "Delivered":
            values["actual_delivery_date"] = now
        return values

    moved, raced = _claim_all(orders, values_of)
    moves = [
        Move(o, "status", {froms[o.id]: -1, o.status: 1}, from_status=froms[o.id]) for o in moved
    ]
    record_changes(moves, actor, now)
    return moved, raced


def cancel_all(orders: list[Order], reason: str, actor: User | None, now: datetime):
    """Cancel each of ``orders`` (locked with their items, not cancelled, not delivered)
    with ``reason``, as ``cancel_order`` would: items back into stock (one ``UPDATE`` per
    tracked product, summed over the orders), each customer refunded what they have not
    had back yet (one ``UPDATE`` per customer), the revenue of each order's bucket less
    that. Returns ``(cancelled, raced)`` (``_claim_all``)."""
    values = {"cancelled": True, "cancellation_reason": reason, "updated_at": now}
    done, raced = _claim_all(orders, lambda status: values)
    back: dict[int, int] = {}
    products: dict[int, Product] = {}
    owed: dict[int, int] = {}
    for order in done:
        for item in order.items:
            if item.product is not None and item.product.stock is not None:
                back[item.product_id] = back.get(item.product_id, 0) + item.quantity
                products[item.product_id] = item.product
        owed[order.user_id] = owed.get(order.user_id, 0) + _remaining(order)
    stock.put_back_quantities(back, products)
    for user_id in sorted(owed):
        if owed[user_id]:
            credits.refund(user_id, owed[user_id])
    moves = [
        Move(
            o,
            "cancelled",
            {o.status: -1, CANCELLED: 1},
            credits=-_remaining(o),
            cancelled=1,
            from_status=o.status,
            note=reason,
        )
        for o in done
    ]
    record_changes(moves, actor, now)
    return done, raced


def _remaining(order: Order) -> int:
    """What a cancel refunds: the total less the partial refunds already made."""
    return order.total_credits - (order.refunded_credits or 0)

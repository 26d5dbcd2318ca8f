"""Customers for admins: a searchable list with orders, total spent and balance, and one
customer's orders and balance history."""

import sqlalchemy as sa

from app.extensions import db
from app.models import Order, OrderActivity, User
from app.services import paging

# What each activity kind did to the customer's balance (credits, from the entry and order).
BALANCE_KINDS = ("created", "cancelled", "cancel_undone", "refunded")


def spent_sql():
    """Credits an order cost its customer, net: nothing once cancelled (the cancel refunded
    the rest), else the total less partial refunds."""
    return sa.case(
        (Order.cancelled.is_(True), 0), else_=Order.total_credits - Order.refunded_credits
    )


def search(q: str | None, page: int, per_page: int = 50):
    """Customers (role ``customer``) matching ``q`` (username or email, substring), by
    username: ``(Pagination of User, {user id: {orders, spent}})`` (two queries: the page,
    then one grouped query over the page's orders)."""
    query = sa.select(User).where(User.role == "customer")
    if q:
        pattern = f"%{q[:100]}%"
        query = query.where(sa.or_(User.username.ilike(pattern), User.email.ilike(pattern)))
    found = paging.paginate(query.order_by(User.username_canonical, User.id), page, per_page)
    ids = [user.id for user in found.items]
    stats = {uid: {"orders": 0, "spent": 0} for uid in ids}
    rows = db.session.execute(
        sa.select(Order.user_id, sa.func.count(Order.id), sa.func.sum(spent_sql()))
        .where(Order.user_id.in_(ids))
        .group_by(Order.user_id)
    )
    for user_id, orders, spent in rows:
        stats[user_id] = {"orders": int(orders), "spent": int(spent or 0)}
    return found, stats


def totals(user: User) -> dict:
    """``{orders, spent, refunded}`` of ``user`` (one query)."""
    orders, spent, refunded = db.session.execute(
        sa.select(
            sa.func.count(Order.id),
            sa.func.coalesce(sa.func.sum(spent_sql()), 0),
            sa.func.coalesce(sa.func.sum(Order.refunded_credits), 0),
        ).where(Order.user_id == user.id)
    ).one()
    return {"orders": int(orders), "spent": int(spent), "refunded": int(refunded)}


def orders_of(user: User, page: int, per_page: int = 20):
    """``user``'s orders, newest first (``Pagination``)."""
    query = (
        sa.select(Order)
        .where(Order.user_id == user.id)
        .order_by(Order.date_ordered.desc(), Order.id.desc())
    )
    return paging.paginate(query, page, per_page)


def balance_history(user: User, limit: int = 100) -> list[dict]:
    """The newest ``limit`` movements of ``user``'s balance, newest first: ``[{at, kind,
    order_number, change (credits, signed), balance (after it), note}]``. Read from the
    activity of their orders (a charge at checkout, a cancel's refund, the charge of an
    undone cancel, a partial refund) and walked back from today's balance, so the last
    line always equals the balance shown."""
    rows = db.session.execute(
        sa.select(OrderActivity, Order.order_number, Order.total_credits, Order.refunded_credits)
        .join(Order, Order.id == OrderActivity.order_id)
        .where(Order.user_id == user.id, OrderActivity.kind.in_(BALANCE_KINDS))
        .order_by(sa.func.coalesce(OrderActivity.version, 0).desc(), OrderActivity.id.desc())
        .limit(limit)
    ).all()
    balance, found = user.credits, []
    refunded_after: dict[str, int] = {}  # partial refunds met so far, walking back in time
    for entry, number, total, refunded in rows:
        # Partial refunds made before this entry: the order's, less those met walking back.
        before = refunded - refunded_after.get(number, 0)
        change = _change(entry, total, before)
        if entry.kind == "refunded":
            refunded_after[number] = refunded_after.get(number, 0) + (entry.credits or 0)
        found.append(
            {
                "at": entry.at,
                "kind": entry.kind,
                "order_number": number,
                "change": change,
                "balance": balance,
                "note": entry.note,
            }
        )
        balance -= change
    return found


def _change(entry: OrderActivity, total: int, refunded_before: int) -> int:
    """The signed credits an entry moved: a checkout charges the total, a partial refund
    gives its credits, a cancel refunds the total less the partial refunds made before it
    and an undone cancel charges that back."""
    if entry.kind == "created":
        return -total
    if entry.kind == "refunded":
        return entry.credits or 0
    rest = total - refunded_before
    return rest if entry.kind == "cancelled" else -rest

"""The customer's side of an order: when each step happened, and cancelling their own
order while it is still Pending."""

from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.models import STATE_KINDS, Order, OrderActivity, User
from app.services import Conflict, NotFound
from app.services.status import cancel_order

CUSTOMER_REASON = "Cancelled by the customer"
MAX_NOTE = 200  # leaves room for CUSTOMER_REASON within cancel_order's 300 characters


def step_times(order: Order) -> dict[str, datetime]:
    """When the order reached each step, from its activity entries (one query): ``{status:
    naive UTC datetime}`` for the statuses reached, plus ``"cancelled"`` when cancelled.

    ``created`` entries date ``Pending``, ``status`` entries their ``to_status`` and
    ``cancelled`` entries ``"cancelled"``; an undo (``status_undone``, ``cancel_undone``)
    takes back the step it reverted, so a step reached again shows its new time. Orders
    older than the activity feed have no entries: their ``Pending`` is the order date, their
    cancellation its ``updated_at``.
    """
    rows = db.session.execute(
        sa.select(
            OrderActivity.kind,
            OrderActivity.from_status,
            OrderActivity.to_status,
            OrderActivity.at,
        )
        .where(OrderActivity.order_id == order.id, OrderActivity.kind.in_(STATE_KINDS))
        .order_by(sa.func.coalesce(OrderActivity.version, 0), OrderActivity.id)
    ).all()
    times: dict[str, datetime] = {}
    for kind, from_status, to_status, at in rows:
        if kind == "status_undone":
            times.pop(from_status, None)
        elif kind == "cancel_undone":
            times.pop("cancelled", None)
        else:
            key = {"created": "Pending", "cancelled": "cancelled"}.get(kind, to_status)
            times.setdefault(key, at)
    times.setdefault("Pending", order.date_ordered)
    if order.cancelled:
        times.setdefault("cancelled", order.updated_at)
    return times


def can_cancel(order: Order, user) -> bool:
    """Whether ``user`` may cancel ``order`` themselves: their own, Pending, not cancelled."""
    return order.user_id == user.id and order.status == "Pending" and not order.cancelled


def cancel_own_order(order: Order, customer: User, note: str | None = None) -> Order:
    """Cancel ``customer``'s own ``order`` while it is Pending: refund, activity entry with
    the customer as actor and the live event, all through ``cancel_order`` (the caller
    commits). The reason is ``CUSTOMER_REASON``, with ``note`` (≤ 200 characters) after it.

    Raises ``NotFound`` (404) for someone else's order and ``Conflict`` (409) once the order
    is cancelled or has moved on, including when an admin moves it between our read and our
    write (``cancel_order`` re-reads it under a row lock).
    """
    if order.user_id != customer.id:
        raise NotFound("No such order in your account")
    if order.cancelled:
        raise Conflict(f"Order {order.order_number} is already cancelled")
    if order.status != "Pending":
        raise Conflict(
            f"Order {order.order_number} is already {order.status}: only a Pending order "
            "can be cancelled here"
        )
    note = (note or "").strip()[:MAX_NOTE]
    reason = f"{CUSTOMER_REASON}: {note}" if note else CUSTOMER_REASON
    return cancel_order(order, reason, actor=customer)

"""Moving orders forward and cancelling them (status only moves forward)."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models import ORDER_STATUSES, Order, User
from app.models._time import utcnow
from app.models.counts import CANCELLED
from app.services import Conflict, Invalid, write_gate
from app.services.changes import record_change

MAX_REASON = 300


def change_status(order: Order, new_status: str, actor: User | None = None) -> Order:
    """Move ``order`` one step forward to ``new_status``; ``actor`` (``None``: the system) is
    recorded in the activity feed and the live event.

    Raises ``Invalid`` (422) for an unknown status and ``Conflict`` (409) for a cancelled
    order or any move that is not exactly the next step (backwards, skipping, repeating).
    """
    if new_status not in ORDER_STATUSES:
        raise Invalid(f"Unknown status {new_status!r}; expected one of {list(ORDER_STATUSES)}")
    if order.cancelled:
        raise Conflict(f"Order {order.order_number} is cancelled and cannot change status")
    if new_status != order.next_status:
        expected = order.next_status or "none (already delivered)"
        raise Conflict(
            f"Cannot move {order.order_number} from {order.status} to {new_status}; "
            f"next allowed: {expected}"
        )
    old_status = order.status
    now = utcnow()
    values = {"status": new_status, "updated_at": now}
    if new_status == "Delivered":
        values["actual_delivery_date"] = now
    _claim(order, values)
    record_change(order, "status", actor, {old_status: -1, new_status: 1}, from_status=old_status)
    return order


def cancel_order(order: Order, reason, actor: User | None = None) -> Order:
    """Cancel a not-yet-delivered order and refund its credits to the customer; ``actor``
    (``None``: the system) and the reason are recorded in the activity feed.

    Raises ``Invalid`` (422) for a missing or overlong reason and ``Conflict`` (409) when the
    order is already cancelled or delivered.
    """
    if not isinstance(reason, str) or not reason.strip():
        raise Invalid("A cancellation reason is required")
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise Invalid(f"The reason is longer than {MAX_REASON} characters")
    if order.cancelled:
        raise Conflict(f"Order {order.order_number} is already cancelled")
    if order.status == "Delivered":
        raise Conflict(f"Order {order.order_number} was delivered and cannot be cancelled")
    _claim(order, {"cancelled": True, "cancellation_reason": reason, "updated_at": utcnow()})
    db.session.execute(
        sa.update(User)
        .where(User.id == order.user_id)
        .values(credits=User.credits + order.total_credits)
    )
    deltas = {order.status: -1, CANCELLED: 1}
    record_change(
        order,
        "cancelled",
        actor,
        deltas,
        credits=-order.total_credits,
        from_status=order.status,
        note=reason,
    )
    return order


def _claim(order: Order, values: dict) -> None:
    """Apply ``values`` to ``order`` only if it is still as this request saw it (status and
    cancelled): one conditional ``UPDATE`` that takes the row lock, so two admins clicking
    at once cannot both move it, and a move made meanwhile (another admin, another process)
    is refused with ``Conflict`` (409) instead of overwritten. The loaded ``order`` then
    shows the new values without another write. Order writes queue at the per-worker write
    gate first (``app/services/write_gate.py``), like checkouts."""
    write_gate.enter()
    claimed = db.session.execute(
        sa.update(Order)
        .where(
            Order.id == order.id,
            Order.status == order.status,
            Order.cancelled.is_(order.cancelled),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise Conflict(f"Order {order.order_number} changed meanwhile; reload and try again")
    for key, value in values.items():
        so.attributes.set_committed_value(order, key, value)

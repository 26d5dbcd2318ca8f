"""Moving orders forward and cancelling them (status only moves forward)."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models import ORDER_STATUSES, Order, User
from app.models.counts import CANCELLED
from app.models.timestamps import utcnow
from app.services import Conflict, Invalid, credits, stock, write_gate
from app.services.changes import record_change
from app.services.history import describe, last_change
from app.services.serializers import order_details

MAX_REASON = 300


def check_seen(order: Order, seen: str | None) -> None:
    """Refuse to act on an order that is no longer as its admin saw it (a click
    meant for "Advance to Shipped" must not move an order someone already shipped).

    ``seen`` is the status the page showed (``None``: not checked, the seed contract).
    Raises ``Invalid`` (422) for a ``seen`` that is no status, and ``changed_meanwhile``'s
    ``Conflict`` (409) when the order has moved or been cancelled since.
    """
    if seen is None:
        return
    if seen not in ORDER_STATUSES:
        raise Invalid(f"Unknown status {seen!r} in from; expected one of {list(ORDER_STATUSES)}")
    if order.cancelled or order.status != seen:
        raise changed_meanwhile(order)


def changed_meanwhile(order: Order) -> Conflict:
    """The 409 for a stale action: who changed ``order`` last and when ("ORD-… changed
    meanwhile: bob moved it to Shipped 4 s ago."), with ``order`` (the details shape, as it
    is now) and ``changed`` (that activity entry) for the page to redraw and explain."""
    message, entry = who_changed(order)
    return Conflict(message, extra={"order": order_details(order), "changed": entry})


def who_changed(order: Order) -> tuple[str, dict | None]:
    """``("ORD-… changed meanwhile: bob moved it to Shipped 4 s ago.", entry)``: the words
    for a refused stale action and the order's last state change (``last_change``)."""
    entry = last_change(order)
    said = describe(entry) if entry else "it was changed"
    return f"{order.order_number} changed meanwhile: {said}.", entry


def change_status(
    order: Order,
    new_status: str,
    actor: User | None = None,
    seen: str | None = None,
    tracking: tuple[str, str] | None = None,
) -> Order:
    """Move ``order`` one step forward to ``new_status``; ``actor`` (``None``: the system) is
    recorded in the activity feed and the live event. ``seen``: the status the admin saw
    (``check_seen``). ``tracking``: ``(carrier, tracking_number)`` from
    ``order_request.parse_move``, for the move to Shipped only (the entry's note says it).

    Raises ``Invalid`` (422) for an unknown status or tracking on another move, and
    ``Conflict`` (409) for a stale ``seen``, a cancelled order or any move that is not
    exactly the next step (backwards, skipping, repeating).
    """
    if new_status not in ORDER_STATUSES:
        raise Invalid(f"Unknown status {new_status!r}; expected one of {list(ORDER_STATUSES)}")
    if tracking is not None and new_status != "Shipped":
        raise Invalid("A tracking number goes with the move to Shipped only")
    check_seen(order, seen)
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
    note = None
    if tracking is not None:
        values["carrier"], values["tracking_number"] = tracking
        note = " ".join(tracking)
    claim(order, values)
    deltas = {old_status: -1, new_status: 1}
    record_change(order, "status", actor, deltas, from_status=old_status, note=note)
    return order


def cancel_reason(reason) -> str:
    """A cancel's reason as it is kept: stripped, 1..``MAX_REASON`` characters. Raises
    ``Invalid`` (422) for one that is missing, not a string, blank or longer. The bulk
    cancel checks it up front (``bulk_request``) with this same rule."""
    if not isinstance(reason, str) or not reason.strip():
        raise Invalid("A cancellation reason is required")
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise Invalid(f"The reason is longer than {MAX_REASON} characters")
    return reason


def cancel_order(order: Order, reason, actor: User | None = None, seen: str | None = None):
    """Cancel a not-yet-delivered order, put its items back in stock and refund what the
    customer has not had back yet (the total less any partial refunds); ``actor``
    (``None``: the system) and the reason are recorded in the activity feed. ``seen``: the
    status the admin saw (``check_seen``). Returns ``order``.

    Raises ``Invalid`` (422) for a missing or overlong reason and ``Conflict`` (409) for a
    stale ``seen`` or when the order is already cancelled or delivered.
    """
    reason = cancel_reason(reason)
    check_seen(order, seen)
    if order.cancelled:
        raise Conflict(f"Order {order.order_number} is already cancelled")
    if order.status == "Delivered":
        raise Conflict(f"Order {order.order_number} was delivered and cannot be cancelled")
    claim(order, {"cancelled": True, "cancellation_reason": reason, "updated_at": utcnow()})
    stock.put_back(order)
    remaining = order.total_credits - order.refunded_credits
    credits.refund(order.user_id, remaining)
    deltas = {order.status: -1, CANCELLED: 1}
    record_change(
        order,
        "cancelled",
        actor,
        deltas,
        credits=-remaining,
        cancelled=1,
        from_status=order.status,
        note=reason,
    )
    return order


def claim(order: Order, values: dict) -> None:
    """Apply ``values`` to ``order`` only if it is still as this request saw it (status and
    cancelled): one conditional ``UPDATE`` that takes the row lock, so two admins clicking
    at once cannot both move it, and a move made meanwhile (another admin, another process)
    is refused with ``changed_meanwhile``'s ``Conflict`` (409) instead of overwritten. The
    loaded ``order`` then shows the new values without another write. Order writes queue at
    the per-worker write gate first (``app/services/write_gate.py``), like checkouts."""
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
        # Say who got there first: the loaded order is stale, read it as it is now.
        db.session.refresh(order)
        raise changed_meanwhile(order)
    for key, value in values.items():
        so.attributes.set_committed_value(order, key, value)

"""Undo: revert exactly one advance or cancel, shortly after it was made.

An undo is a change of its own, through ``record_change`` like every order write: its own
activity entry (``status_undone`` or ``cancel_undone``), version, counter deltas and revenue
delta, so ``order_counts``, ``revenue_buckets``, the customer's balance and every open page
stay exact, and ``flask reconcile-counts`` finds no drift. It is refused, with nothing
written, unless the change is the order's latest, the undoing admin's own, and recent.
"""

from datetime import timedelta
from typing import Annotated

from flask import current_app
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from app.extensions import db
from app.models import Order, OrderActivity, User
from app.models.counts import CANCELLED
from app.models.limits import MAX_DB_INT
from app.models.timestamps import utcnow
from app.services import Conflict, Invalid, NotFound, ServiceError, credits, stock
from app.services.bodies import Refusal, check
from app.services.changes import record_change
from app.services.history import describe, last_change
from app.services.status import claim

# The page offers Undo for UNDO_SECONDS; the server allows this much more, for the click
# made in the last moment and the request in flight.
GRACE_SECONDS = 5
UNDO_KINDS = {"status": "status_undone", "cancelled": "cancel_undone"}


class UndoBody(BaseModel):
    """``{"activity_id": int 1..2³¹−1}``: the change to undo."""

    model_config = ConfigDict(strict=True)

    activity_id: Annotated[StrictInt, Field(ge=1, le=MAX_DB_INT)]


# Whatever is wrong with it, the body is answered with its shape.
REFUSALS = (Refusal((), 'Send JSON {"activity_id": <the id of the change to undo>}', 400),)


def parse_activity_id(payload) -> int:
    """``{"activity_id": int}`` → the id (``UndoBody``); ``Invalid`` (400) for anything
    else (a bool, a string, a float, out of 1..2³¹−1)."""
    return check(UndoBody, payload, REFUSALS).activity_id


def undo_change(order: Order, activity_id: int, actor: User) -> Order:
    """Revert the change recorded as activity ``activity_id`` on ``order``, inside the
    caller's transaction; returns ``order`` as it is now.

    A move goes back one step (leaving Delivered clears the delivery time); a cancel is
    lifted and the credits charged again, only if the customer's balance still covers them.
    Raises ``NotFound`` (404) for a change that is not this order's, ``Invalid`` (422) for
    a change that is not an advance or a cancel, 403 for another admin's change, and
    ``Conflict`` (409) once ``UNDO_SECONDS`` (+5 s) have passed, when the order changed
    since (naming who), or when the balance is short (naming both amounts).
    """
    entry = db.session.get(OrderActivity, activity_id)
    if entry is None or entry.order_id != order.id:
        raise NotFound(f"No change {activity_id} on order {order.order_number}")
    if entry.kind not in UNDO_KINDS:
        raise Invalid("Only a status move or a cancellation can be undone")
    if entry.actor_id != actor.id:
        raise ServiceError("Only the admin who made a change can undo it", 403)
    window = current_app.config["UNDO_SECONDS"]
    if utcnow() - entry.at > timedelta(seconds=window + GRACE_SECONDS):
        raise Conflict(f"Too late to undo: changes can be undone for {window} s")
    latest = last_change(order)
    if latest is None or latest["id"] != entry.id:
        raise Conflict(
            f"{order.order_number} changed since: {describe(latest)}; your change cannot be "
            "undone any more"
        )
    if entry.kind == "status":
        return _unmove(order, entry, actor)
    return _uncancel(order, entry, actor)


def _unmove(order: Order, entry: OrderActivity, actor: User) -> Order:
    back, moved_to = entry.from_status, entry.to_status
    values = {"status": back, "updated_at": utcnow()}
    if moved_to == "Delivered":
        values["actual_delivery_date"] = None
    if moved_to == "Shipped":  # the shipment is undone: its tracking number goes with it
        values.update(carrier=None, tracking_number=None)
    claim(order, values)
    record_change(order, "status_undone", actor, {moved_to: -1, back: 1}, from_status=moved_to)
    return order


def _uncancel(order: Order, entry: OrderActivity, actor: User) -> Order:
    # What the cancel refunded: the total less any partial refunds made before it.
    status, total = order.status, order.total_credits - order.refunded_credits
    claim(order, {"cancelled": False, "cancellation_reason": None, "updated_at": utcnow()})
    stock.take_again(order)  # 409 when an item sold out since the cancel
    # The refund may be spent by now: charge it back only if the balance covers it, else
    # refuse; the caller rolls back.
    if not credits.charge(order.user_id, total):
        customer = db.session.get(User, order.user_id)
        db.session.refresh(customer)
        raise Conflict(
            f"Cannot undo the cancellation of {order.order_number}: it costs {total} credits "
            f"and {customer.username} has {customer.credits} left since the refund"
        )
    record_change(
        order,
        "cancel_undone",
        actor,
        {CANCELLED: -1, status: 1},
        credits=total,
        cancelled=-1,
        from_status=status,
    )
    return order

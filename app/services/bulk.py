"""Bulk actions on orders: advance or cancel many orders in one request.

The rules of each move are the single-order services' (``change_status``,
``cancel_order``): they record the activity entry and queue the live event, so a bulk
action looks on every dashboard like the same clicks made one by one, coalesced by the hub.
This module checks the request as a whole first (nothing is written when it is malformed),
then acts on one order at a time; the view commits after each order, so one order's
conflict never undoes another's move.
"""

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models import Order, User
from app.models.limits import MAX_DB_INT
from app.services import Conflict, Invalid, NotFound, tags
from app.services.status import MAX_REASON, cancel_order, change_status

MAX_IDS = 500
ACTIONS = ("advance", "cancel", "tag")


@dataclass(frozen=True)
class BulkRequest:
    """A checked bulk request: ``ids`` (distinct order ids, as sent), ``action``, the
    cancellation ``reason`` (``None`` but for ``cancel``) and the tags to ``add`` and
    ``remove`` (``tag`` only)."""

    ids: tuple[int, ...]
    action: str
    reason: str | None = None
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()


def parse_bulk(payload) -> BulkRequest:
    """Check ``{"ids": [int, ...], "action": "advance"|"cancel"|"tag", "reason": str,
    "add": [str], "remove": [str]}``.

    Raises ``Invalid`` with 400 for a body that is not an object, ``ids`` that is not a
    list of integers (``true`` is not an id), or ids outside 1..2³¹−1; with 422 for an
    unknown action, no ids, more than ``MAX_IDS`` ids, repeated ids, a missing, blank
    or overlong (> 300 characters) reason for ``cancel``, and bad tags for ``tag``
    (``tags.parse_tag_change``'s rules).
    """
    if not isinstance(payload, dict):
        raise Invalid('Send JSON {"ids": [...], "action": "advance"|"cancel"}', 400)
    ids, action = payload.get("ids"), payload.get("action")
    if not isinstance(ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in ids
    ):
        raise Invalid("ids must be a list of integer order ids", 400)
    if not all(1 <= i <= MAX_DB_INT for i in ids):
        raise Invalid(f"ids must be integers from 1 to {MAX_DB_INT}", 400)
    if action not in ACTIONS:
        raise Invalid(f"action must be one of {list(ACTIONS)}")
    if not ids:
        raise Invalid("ids is empty: select at least one order")
    if len(ids) > MAX_IDS:
        raise Invalid(f"At most {MAX_IDS} orders per bulk action (got {len(ids)})")
    if len(set(ids)) != len(ids):
        raise Invalid("ids contains the same order more than once")
    reason = None
    if action == "cancel":
        # cancel_order applies the same rule per order; checked here once, up front, so a
        # bad reason refuses the whole request before any order is touched.
        reason = payload.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise Invalid("A cancellation reason is required")
        reason = reason.strip()
        if len(reason) > MAX_REASON:
            raise Invalid(f"The reason is longer than {MAX_REASON} characters")
    if action == "tag":
        add, remove = tags.parse_tag_change(payload)
        return BulkRequest(tuple(ids), action, add=tuple(add), remove=tuple(remove))
    return BulkRequest(tuple(ids), action, reason)


def load_orders(ids) -> dict[int, Order]:
    """The orders among ``ids`` with their customers, in one query: ``{id: order}``."""
    orders = db.session.scalars(
        sa.select(Order)
        .options(so.joinedload(Order.customer), so.selectinload(Order.tag_rows))
        .where(Order.id.in_(ids))
    )
    return {order.id: order for order in orders}


def apply_one(order: Order | None, order_id: int, request: BulkRequest, actor: User) -> Order:
    """Advance ``order`` one step, cancel it (refund included) or change its tags, inside
    the caller's transaction. Raises ``NotFound`` (404) for a missing order and
    ``Conflict`` (409) when it cannot move: cancelled, delivered, or changed since it was
    read (the services re-read it under a row lock)."""
    if order is None:
        raise NotFound(f"Order {order_id} not found")
    if request.action == "tag":
        tags.apply_tags(order, list(request.add), list(request.remove), actor)
        return order
    if request.action == "cancel":
        return cancel_order(order, request.reason, actor=actor)
    if order.next_status is None:
        state = "cancelled" if order.cancelled else "delivered"
        raise Conflict(f"Order {order.order_number} is {state} and cannot move forward")
    return change_status(order, order.next_status, actor=actor)

"""Customers' single-order streams (``GET /orders/<order_number>/stream``): their first
frame, and each tick's changes of the orders they follow and of their balance."""

import sqlalchemy.orm as so

from app.extensions import db
from app.models import Order
from app.realtime import sse
from app.realtime.frames import Tick
from app.realtime.registry import StreamRegistry
from app.realtime.subscription import CATALOGUE, Subscription
from app.services.serializers import order_tracking


def serve_watchers(registry: StreamRegistry, subs: list[Subscription]) -> None:
    """Send each new order stream its order's tracking state (one query for all of them),
    then let it receive updates; a stream whose order is gone closes."""
    ids = {sub.order_id for sub in subs}
    query = db.select(Order).where(Order.id.in_(ids)).options(so.joinedload(Order.customer))
    orders = {o.id: o for o in db.session.scalars(query)}
    for sub in subs:
        order = orders.get(sub.order_id)
        if order is None:  # deleted meanwhile: nothing to follow
            sub.close()
            continue
        state = {**order_tracking(order), "balance": order.customer.credits}
        sub.last = _shown(state)
        frame = sse.encode({"type": "initial", **state})
        sub.offer([frame], None, sse.chunk(frame))
        registry.activate(sub)


def dispatch_tracking(registry: StreamRegistry, tick: Tick) -> None:
    """Each changed order's state to its watchers; a customer's new balance to every
    other order stream of theirs (a charge or a refund shows on all their pages).
    ``sub.last`` is what it last showed (``_shown``), to skip repeats. The storefronts'
    stock streams (``CATALOGUE``) are not order streams: the hub serves them itself."""
    encoded: dict = {}

    def frame(key, body):
        if key not in encoded:
            data = sse.encode(body)
            encoded[key] = ([data], sse.chunk(data))
        return encoded[key]

    for order_id in registry.watched_orders() - {CATALOGUE}:
        tracked = tick.tracking.get(order_id)
        for sub in registry.watchers(order_id):
            if tracked is not None:
                state = tracked[0]
                last = _shown(state)
                body = {"type": "update", **state}
            elif sub.user_id in tick.balances and sub.last is not None:
                balance = tick.balances[sub.user_id]
                last = (*sub.last[:-1], balance)
                body = {"type": "balance", "balance": balance}
            else:
                continue
            if sub.last != last:
                sub.last = last
                events, chunk = frame((body["type"], order_id, sub.user_id), body)
                sub.offer(events, None, chunk)


def _shown(state: dict) -> tuple:
    """What a customer's order page shows of a tracking state, the balance last: a frame
    that would change none of it is not sent."""
    keys = ("status", "cancelled", "tracking_number", "refunded_credits", "balance")
    return tuple(state.get(key) for key in keys)

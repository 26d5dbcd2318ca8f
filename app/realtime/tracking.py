"""Customers' single-order streams (``GET /orders/<order_number>/stream``): their first
frame, and each tick's changes of the orders they follow and of their balance."""

import sqlalchemy.orm as so

from app.extensions import db
from app.models import Order
from app.realtime import sse
from app.realtime.frames import Tick
from app.realtime.registry import StreamRegistry
from app.realtime.subscription import Subscription
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
    ``sub.last`` is what it last showed (``_shown``), to skip repeats. Only the streams of
    the tick's orders and customers are looked at, however many are open (a channel per
    order, an index by customer: ``StreamRegistry.order_streams_of``); each frame is
    encoded once for all the streams it goes to."""
    for order_id, (state, _customer) in tick.tracking.items():
        watchers = registry.watchers(order_id)
        if not watchers:
            continue
        last = _shown(state)
        data = sse.encode({"type": "update", **state})
        chunk = sse.chunk(data)
        for sub in watchers:
            if sub.last != last:
                sub.last = last
                sub.offer([data], None, chunk)
    for user_id, balance in tick.balances.items():
        data = chunk = None
        for sub in registry.order_streams_of(user_id):
            if sub.order_id in tick.tracking or sub.last is None:
                continue  # its update carried the balance, or its first frame is not out
            last = (*sub.last[:-1], balance)
            if sub.last != last:
                if data is None:
                    data = sse.encode({"type": "balance", "balance": balance})
                    chunk = sse.chunk(data)
                sub.last = last
                sub.offer([data], None, chunk)


def _shown(state: dict) -> tuple:
    """What a customer's order page shows of a tracking state, the balance last: a frame
    that would change none of it is not sent."""
    keys = ("status", "cancelled", "tracking_number", "refunded_credits", "balance")
    return tuple(state.get(key) for key in keys)

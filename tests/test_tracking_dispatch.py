"""Customers' order streams are channels (``app/realtime/tracking.py``): a tick looks at the
streams of the orders it changed and of the customers whose balance moved, never at every
open stream; an order page of the same customer gets the new balance, other customers'
pages get nothing. In-process, with the real registry (a customer's page live:
``tests/test_customer_side.py``, ``tests/test_refunds_tracking.py``)."""

import json

from app.realtime.frames import Tick
from app.realtime.registry import StreamRegistry
from app.realtime.subscription import CATALOGUE
from app.realtime.tracking import _shown, dispatch_tracking

CONFIG = {
    "SSE_MAX_STREAMS_PER_USER": 10,
    "SSE_EVENT_QUEUE_SIZE": 64,
    "SSE_LIFETIME_SECONDS": 600,
    "SSE_LIFETIME_JITTER_SECONDS": 0,
}
STATE = {"status": "Pending", "cancelled": False, "tracking_number": None}


class Watched(StreamRegistry):
    """The registry, counting the lookups a dispatch makes."""

    def __init__(self):
        super().__init__(CONFIG)
        self.lookups: list[tuple] = []

    def watchers(self, order_id):
        self.lookups.append(("watchers", order_id))
        return super().watchers(order_id)

    def order_streams_of(self, user_id):
        self.lookups.append(("order_streams_of", user_id))
        return super().order_streams_of(user_id)

    def all(self):
        raise AssertionError("a tick must not look at every stream")

    def watched_orders(self):
        raise AssertionError("a tick must not look at every followed order")


def follow(registry, order_id: int, user_id: int, balance: int = 100):
    sub = registry.open(user_id, f"s{user_id}", order_id=order_id)
    sub.last = _shown({**STATE, "balance": balance})  # its first frame went out
    registry.activate(sub)
    return sub


def sent(sub) -> list[dict]:
    raw = sub.take(0) or b""
    return [json.loads(line[6:]) for line in raw.decode().splitlines() if line[:6] == "data: "]


def test_a_tick_looks_only_at_its_orders_and_customers():
    registry = Watched()
    others = [follow(registry, order_id=1000 + n, user_id=2000 + n) for n in range(1000)]
    storefront = registry.open(None, None, order_id=CATALOGUE)
    registry.activate(storefront)
    moved = follow(registry, order_id=7, user_id=42)
    same_customer = follow(registry, order_id=8, user_id=42)
    tick = Tick()
    state = {**STATE, "status": "Shipped", "balance": 90}
    tick.tracking[7] = (state, 42)
    tick.balances[42] = 90
    dispatch_tracking(registry, tick)
    assert registry.lookups == [("watchers", 7), ("order_streams_of", 42)]
    assert [f["type"] for f in sent(moved)] == ["update"]
    assert sent(same_customer) == [{"type": "balance", "balance": 90}]
    assert not any(sent(sub) for sub in others), "nobody else's page hears of it"
    assert not sent(storefront)


def test_a_repeat_of_what_a_page_shows_is_not_sent_again():
    registry = Watched()
    moved = follow(registry, order_id=7, user_id=42)
    tick = Tick()
    tick.tracking[7] = ({**STATE, "status": "Shipped", "balance": 100}, 42)
    dispatch_tracking(registry, tick)
    assert len(sent(moved)) == 1
    dispatch_tracking(registry, tick)
    assert sent(moved) == []


def test_a_closed_page_leaves_the_customers_index():
    registry = StreamRegistry(CONFIG)
    first = follow(registry, order_id=7, user_id=42)
    second = follow(registry, order_id=8, user_id=42)
    assert registry.order_streams_of(42) == [first, second]
    assert registry.count == 2
    registry.remove(first)
    registry.remove(first)  # idempotent
    assert registry.order_streams_of(42) == [second]
    registry.remove(second)
    assert registry.order_streams_of(42) == []
    assert registry.count == 0

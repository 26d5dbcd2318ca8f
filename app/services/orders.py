"""Placing orders: credits, order numbers and idempotency (one transaction). What a checkout
asks for is checked first, by ``parse_checkout`` (``checkout_request``)."""

from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import Order, OrderItem, Product, User
from app.models.counts import TOTAL
from app.models.timestamps import utcnow
from app.services import Invalid, NotFound, credits, placing, stock, write_gate
from app.services.changes import record_change
from app.services.checkout_request import CheckoutRequest, parse_checkout

# What a checkout asks for lives in ``checkout_request``; callers know it by these names.
__all__ = [
    "CheckoutRequest",
    "checkout",
    "parse_checkout",
    "place_order",
    "replayed",
    "validate_idempotency_key",
]

MAX_IDEMPOTENCY_KEY = 100
DELIVERY_DAYS = {"home delivery": 3, "pickup": 1}


_orders = Order.__table__
BY_KEY = sa.select(_orders.c.id).where(
    _orders.c.user_id == sa.bindparam("user_id"),
    _orders.c.idempotency_key == sa.bindparam("key"),
)
ACTIVE_PRODUCTS = sa.select(Product).where(
    Product.id.in_(sa.bindparam("ids", expanding=True)), Product.active.is_(True)
)


def find_by_idempotency_key(user: User, key: str) -> Order | None:
    """The order this customer already placed with ``key``, if any."""
    found = db.session.connection().execute(BY_KEY, {"user_id": user.id, "key": key})
    order_id = found.scalar()
    return db.session.get(Order, order_id) if order_id is not None else None


def place_order(
    user: User, request: CheckoutRequest, idempotency_key: str | None = None, now=None
) -> Order:
    """Create a Pending order, charge credits and add to the counters and the revenue
    bucket, all in the caller's transaction; dashboards hear of it after commit (outbox).

    Stock is taken in the same transaction, before the charge (``stock.take``: products,
    then the customer's row, then the counters: the lock order every writer keeps).

    The order and its items are written with Core statements, not the ORM's unit of work
    (one statement on PostgreSQL, ``placing.insert_order``); the ``Order`` returned is in
    the session as if loaded, its ``customer``, ``items`` and their ``product`` set from
    what the checkout loaded, so the answer needs no query.

    Raises ``NotFound`` (404) for an unknown or withdrawn product, ``Conflict`` (409: "Only
    2 left of Rye bread ...") when a product has too few in stock, and ``Invalid`` (422)
    when the balance is short. Nothing is written when it raises (the caller rolls back).
    """
    now = now or utcnow()
    write_gate.enter()
    products = db.session.scalars(ACTIVE_PRODUCTS, {"ids": list(request.lines)}).all()
    by_id = {p.id: p for p in products}
    missing = sorted(set(request.lines) - set(by_id))
    if missing:
        raise NotFound(f"Unknown product: {', '.join(map(str, missing))}")
    total = sum(by_id[pid].credit_value * qty for pid, qty in request.lines.items())
    stock.take(request.lines, by_id)
    if not credits.charge(user.id, total):
        raise Invalid(f"Not enough credits: this order costs {total}, you have {user.credits}")
    order = Order(
        status="Pending",
        user_id=user.id,
        delivery_method=request.delivery_method,
        delivery_address=request.delivery_address,
        date_ordered=now,
        updated_at=now,
        estimated_delivery_date=now + timedelta(days=DELIVERY_DAYS[request.delivery_method]),
        actual_delivery_date=None,
        total_credits=total,
        cancelled=False,
        cancellation_reason=None,
        refunded_credits=0,
        carrier=None,
        tracking_number=None,
        idempotency_key=idempotency_key,
        request_fingerprint=request.fingerprint() if idempotency_key else None,
    )
    items = [
        OrderItem(product_id=pid, quantity=qty, credit_value=by_id[pid].credit_value)
        for pid, qty in sorted(request.lines.items())
    ]
    placing.insert_order(order, items, by_id, user)
    record_change(order, "created", user, {TOTAL: 1, "Pending": 1}, credits=total, placed=1)
    return order


def validate_idempotency_key(key: str | None) -> str | None:
    """``None`` or a stripped key of 1..100 printable characters; raises ``Invalid`` (400)."""
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
        raise Invalid(
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} printable characters", 400
        )
    return key


def checkout(user: User, request: CheckoutRequest, idempotency_key: str | None):
    """Place an order at most once per ``Idempotency-Key``: ``(order, created)``. A repeated
    key returns the first order (``created`` False); a repeated key with a different request
    raises ``Invalid`` (422). Races between two requests with one key are settled by the
    caller, which owns the transaction (``app/web/checkout.py``, with ``replayed``)."""
    if idempotency_key:
        existing = replayed(user, request, idempotency_key)
        if existing is not None:
            return existing, False
    return place_order(user, request, idempotency_key), True


def replayed(user: User, request: CheckoutRequest, idempotency_key: str) -> Order | None:
    """The order this customer already placed with ``idempotency_key``, if any; raises
    ``Invalid`` (422) when that order was for a different request."""
    existing = find_by_idempotency_key(user, idempotency_key)
    return _same_request(existing, request) if existing is not None else None


def _same_request(order: Order, request: CheckoutRequest) -> Order:
    if order.request_fingerprint and order.request_fingerprint != request.fingerprint():
        raise Invalid("This Idempotency-Key was already used for a different order")
    return order

"""What the two checkout routes (the form at /checkout and ``POST /api/orders``) share: one
rate limit, and the transaction that places an order at most once per Idempotency-Key."""

import sqlalchemy as sa

from app.extensions import db, limiter
from app.models import Order, User
from app.security import checkout_limit, limits_off, user_limit_key
from app.services import Invalid
from app.services.orders import CheckoutRequest, checkout, replayed

# ``RATELIMIT_CHECKOUT`` POSTs per user, HTML and JSON together (one counter, one scope).
checkout_limited = limiter.shared_limit(
    checkout_limit,
    scope="checkout",
    key_func=user_limit_key,
    methods=["POST"],
    exempt_when=limits_off,
    error_message="Too many checkouts: wait a minute and try again.",
)


def place_once(user: User, request: CheckoutRequest, key: str | None) -> tuple[Order, bool]:
    """Commit a new order, or find the one ``key`` already made: ``(order, created)``.

    Two requests racing with one key meet at the unique index, or at the balance (the
    loser's charge waits for the winner's lock on the user row, then finds the credits
    spent): the loser's transaction is rolled back here, where the view's transaction is
    owned, and it answers with the winner's order (a double click is not "not enough
    credits"). Raises the services' errors (``ServiceError``: 404, 422) otherwise.
    """
    try:
        order, created = checkout(user, request, key)
        db.session.commit()
        return order, created
    except (sa.exc.IntegrityError, Invalid):
        if not key:
            raise
        db.session.rollback()
        order = replayed(user, request, key)
        if order is None:
            raise
        return order, False

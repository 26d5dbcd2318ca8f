"""The shopping cart, kept in the signed session cookie as ``{product_id: quantity}``."""

import sqlalchemy as sa
from flask import current_app, session

from app.extensions import db
from app.models import Product
from app.services import Conflict, Invalid, NotFound, stock

KEY = "cart"


def _cart() -> dict[str, int]:
    return dict(session.get(KEY, {}))


def add(product_id: int, quantity: int) -> Product:
    """Add ``quantity`` of an active product. Raises ``NotFound`` (404) for an unknown one,
    ``Invalid`` (422) past the per-line quantity or line-count limits, and ``Conflict``
    (409) beyond its stock now ("Only 2 left of ..."; the checkout checks again, under
    its lock)."""
    product = db.session.get(Product, product_id)
    if product is None or not product.active:
        raise NotFound("That product is not in the catalogue")
    cart = _cart()
    limit = current_app.config["CHECKOUT_MAX_QUANTITY"]
    new_quantity = cart.get(str(product_id), 0) + quantity
    if not 1 <= new_quantity <= limit:
        raise Invalid(f"You can order between 1 and {limit} of each product")
    if str(product_id) not in cart and len(cart) >= current_app.config["CHECKOUT_MAX_LINES"]:
        raise Invalid("Your cart is full")
    if product.stock is not None and new_quantity > product.stock:
        raise Conflict(stock.shortage(product, new_quantity))
    cart[str(product_id)] = new_quantity
    session[KEY] = cart
    return product


def set_quantity(product_id: int, quantity: int) -> None:
    """Set a line's quantity; 0 removes it. Raises ``NotFound`` (404) for a product that is
    not in the cart (adding goes through ``add`` and its catalogue check)."""
    cart = _cart()
    if str(product_id) not in cart:
        raise NotFound("That product is not in your cart")
    if quantity <= 0:
        cart.pop(str(product_id), None)
    else:
        cart[str(product_id)] = min(quantity, current_app.config["CHECKOUT_MAX_QUANTITY"])
    session[KEY] = cart


def clear() -> None:
    session.pop(KEY, None)


def items() -> list[dict]:
    """``[{"product_id": int, "quantity": int}]``: the checkout service's input shape."""
    return [{"product_id": int(pid), "quantity": qty} for pid, qty in _cart().items()]


def lines() -> tuple[list[dict], int]:
    """``([{product, quantity, subtotal}], total_credits)`` for display; products that left
    the catalogue are dropped from the cart."""
    cart = _cart()
    if not cart:
        return [], 0
    products = db.session.scalars(
        sa.select(Product).where(Product.id.in_([int(k) for k in cart]), Product.active)
    ).all()
    rows = [
        {"product": p, "quantity": cart[str(p.id)], "subtotal": p.credit_value * cart[str(p.id)]}
        for p in sorted(products, key=lambda p: p.name)
    ]
    if len(rows) != len(cart):
        session[KEY] = {str(r["product"].id): r["quantity"] for r in rows}
    return rows, sum(r["subtotal"] for r in rows)

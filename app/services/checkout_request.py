"""What a checkout asks for (``POST /api/orders`` and the checkout form, from the session
cart), checked before anything is read: a pydantic model (``CheckoutBody``) and the order its
refusals are told in (``REFUSALS``, through ``bodies.check``). ``parse_checkout`` gives
``orders.place_order`` a ``CheckoutRequest``.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from flask import current_app
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    ValidationInfo,
    model_validator,
)

from app.models import DELIVERY_METHODS
from app.models.limits import MAX_DB_INT
from app.services.bodies import ANY, Refusal, check, refuse

MAX_ADDRESS = 300
_NO_ITEMS = ("list_type", "too_short")


@dataclass(frozen=True)
class CheckoutRequest:
    """Validated checkout input: ``lines`` maps product id → quantity (both ``int``)."""

    lines: dict[int, int]
    delivery_method: str
    delivery_address: str | None

    def fingerprint(self) -> str:
        """SHA-256 of the canonical request, to tell a retry from a different order."""
        body = [sorted(self.lines.items()), self.delivery_method, self.delivery_address]
        return hashlib.sha256(json.dumps(body).encode()).hexdigest()


def _known_product(product_id: int) -> int:
    # An id no database column holds names no product: the 404 of a withdrawn one.
    if not 1 <= product_id <= MAX_DB_INT:
        raise refuse("product", f"Unknown product: {product_id}")
    return product_id


class Line(BaseModel):
    """One item of a checkout: ``{"product_id": int, "quantity": int}`` (``true`` is
    neither)."""

    model_config = ConfigDict(strict=True)

    product_id: Annotated[StrictInt, AfterValidator(_known_product)]
    quantity: StrictInt


def _totals(lines: list[Line]) -> dict[int, int]:
    """Product id → quantity, repeated products added up, in the order first named."""
    totals: dict[int, int] = {}
    for line in lines:
        totals[line.product_id] = totals.get(line.product_id, 0) + line.quantity
    return totals


def _at_most_lines(items: Any, info: ValidationInfo) -> Any:
    # Counted before any line is read: a cart past the limit is refused for that alone.
    limit = info.context["max_lines"]
    if isinstance(items, list) and len(items) > limit:
        raise refuse("lines", f"At most {limit} different items per order")
    return items


def _quantities_in_range(lines: list[Line], info: ValidationInfo) -> list[Line]:
    limit = info.context["max_quantity"]
    for product_id, quantity in _totals(lines).items():
        if not 1 <= quantity <= limit:
            raise refuse(
                "quantity", f"Quantity for product {product_id} must be between 1 and {limit}"
            )
    return lines


class CheckoutBody(BaseModel):
    """Checkout input; the limits come in the validation context (``max_lines``,
    ``max_quantity``: the config's). The address matters only for home delivery, so the
    model checks it once the fields are valid."""

    model_config = ConfigDict(strict=True)

    items: Annotated[
        list[Line],
        Field(min_length=1),
        BeforeValidator(_at_most_lines),
        AfterValidator(_quantities_in_range),
    ]
    delivery_method: Literal[DELIVERY_METHODS]
    delivery_address: Any = None

    @model_validator(mode="after")
    def _address(self) -> "CheckoutBody":
        if self.delivery_method == "pickup":
            self.delivery_address = None
            return self
        address = self.delivery_address.strip() if isinstance(self.delivery_address, str) else ""
        if not address:
            raise refuse("address", "Home delivery needs a delivery address")
        if len(address) > MAX_ADDRESS:
            raise refuse(
                "address", f"The delivery address is longer than {MAX_ADDRESS} characters"
            )
        self.delivery_address = address
        return self


# The order the rules have always been checked in: the first one broken is the answer.
REFUSALS = (
    Refusal(("items",), "Your cart is empty: add at least one item", types=_NO_ITEMS),
    Refusal(("items",), types=("lines",)),
    (  # line by line, in the cart's order
        Refusal(
            ("items", ANY),
            "Each item must be an object with product_id and quantity",
            types=("model_type",),
        ),
        Refusal(("items", ANY, "product_id"), status=404, types=("product",)),
        Refusal(("items", ANY, "product_id"), "product_id must be an integer"),
        Refusal(("items", ANY, "quantity"), "quantity must be an integer"),
    ),
    Refusal(("items",), types=("quantity",)),
    Refusal(
        ("delivery_method",), f"delivery_method must be one of: {', '.join(DELIVERY_METHODS)}"
    ),
    Refusal(types=("address",)),
)


def parse_checkout(items, delivery_method, delivery_address) -> CheckoutRequest:
    """Validate raw checkout input (JSON or the session cart) with ``CheckoutBody``.

    ``items`` is a list of ``{"product_id": int, "quantity": int}``; repeated products add
    up. ``delivery_method`` is ``"home delivery"`` or ``"pickup"``; ``delivery_address`` a
    string for home delivery (stripped), ignored for pickup. Raises ``Invalid`` (422) for
    an empty cart, more than ``CHECKOUT_MAX_LINES`` items, an item that is not an object,
    a product id or quantity that is not an integer, a quantity outside
    1..``CHECKOUT_MAX_QUANTITY``, an unknown delivery method, a missing or overlong (> 300
    characters) address; ``NotFound`` (404) for a product id outside 1..2³¹−1. One
    refusal per call: the first in ``REFUSALS``' order.
    """
    config = current_app.config
    body = check(
        CheckoutBody,
        {"items": items, "delivery_method": delivery_method, "delivery_address": delivery_address},
        REFUSALS,
        context={
            "max_lines": config["CHECKOUT_MAX_LINES"],
            "max_quantity": config["CHECKOUT_MAX_QUANTITY"],
        },
    )
    return CheckoutRequest(_totals(body.items), body.delivery_method, body.delivery_address)

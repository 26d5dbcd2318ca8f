"""JSON checkout for scripts and the storefront's JS (CSRF header required like any write)."""

from flask import Blueprint, jsonify, request
from flask_login import current_user, login_required

from app.errors import json_error
from app.services.orders import parse_checkout, validate_idempotency_key
from app.services.serializers import order_details
from app.web.checkout import checkout_limited, place_once

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.post("/orders")
@login_required
@checkout_limited
def create_order():
    """Place an order from ``{"items": [{"product_id": int, "quantity": int}],
    "delivery_method": "home delivery"|"pickup", "delivery_address": str|null}``.

    Header ``Idempotency-Key`` (optional, 1..100 chars): a repeat returns the same order.
    Returns ``201 {success, order}`` when created, ``200 {success, order}`` for a repeat;
    400 malformed JSON or key, 401 logged out, 404 unknown product, 422 rule broken
    (empty cart, quantity outside 1..``CHECKOUT_MAX_QUANTITY``, missing address, short of
    credits, key reused for a different order), 429 more than ``RATELIMIT_CHECKOUT``
    checkouts per user (HTML and JSON together). Nothing is written on any error.
    """
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return json_error("Send a JSON object (Content-Type: application/json)", 400)
    key = validate_idempotency_key(request.headers.get("Idempotency-Key"))
    order_request = parse_checkout(
        payload.get("items"), payload.get("delivery_method"), payload.get("delivery_address")
    )
    order, created = place_once(current_user, order_request, key)
    return jsonify(success=True, order=order_details(order)), 201 if created else 200

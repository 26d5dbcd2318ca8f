"""Request bodies checked by pydantic models (``app/services/bodies.py``): strict types, our
messages and statuses, and one answer per body with several faults, the one the checks
always gave first (the ``REFUSALS`` order of ``bulk_request`` and ``checkout_request``)."""

import pytest

from app.services import Invalid, NotFound
from app.services.bulk import parse_bulk
from app.services.orders import parse_checkout

FROM = {"1": "Pending"}


@pytest.mark.parametrize(
    "body, status, message",
    [
        (None, 400, "Send JSON"),
        ([1], 400, "Send JSON"),
        ({"ids": [0, True], "action": "advance", "from": FROM}, 400, "list of integer"),
        ({"ids": ["1"], "action": "advance", "from": FROM}, 400, "list of integer"),
        ({"ids": [1.0], "action": "advance", "from": FROM}, 400, "list of integer"),
        ({"ids": [0], "action": "x", "from": FROM}, 400, "integers from 1 to 2147483647"),
        ({"ids": [], "action": "x", "from": "x"}, 422, "action must be one of"),
        ({"ids": [], "action": "advance", "from": "x"}, 422, "ids is empty"),
        ({"ids": list(range(1, 502)), "action": "tag"}, 422, "per bulk action (got 501)"),
        ({"ids": [1, 1], "action": "advance", "from": {"x": 1}}, 422, "more than once"),
        ({"ids": [1], "action": "advance", "from": {"1": "Lost", "x": 1}}, 422, "'Lost'"),
        ({"ids": [1], "action": "advance", "from": {"x": 1, "1": "Lost"}}, 400, "must be an obj"),
        ({"ids": [1], "action": "advance", "from": {"1\n": "Pending"}}, 400, "must be an obj"),
        ({"ids": [1], "action": "advance", "from": {"١": "Pending"}}, 400, "must be an obj"),
        ({"ids": [1], "action": "cancel", "reason": 5}, 422, '"from" is required'),
        ({"ids": [1], "action": "cancel", "from": FROM, "reason": " "}, 422, "reason is req"),
        ({"ids": [1], "action": "cancel", "from": FROM, "reason": True}, 422, "reason is req"),
        ({"ids": [1], "action": "tag", "from": {"2": 1}, "add": 5}, 400, "must be an obj"),
        ({"ids": [1], "action": "tag", "add": 5}, 400, "add must be a list"),
    ],
    ids=lambda value: repr(value)[:60],
)
def test_a_bulk_body_gets_the_first_refusal_in_our_words(body, status, message):
    with pytest.raises(Invalid) as refused:
        parse_bulk(body)
    assert refused.value.status_code == status
    assert message in refused.value.message


def test_a_bulk_body_reads_as_before():
    body = {"ids": [2, 1], "action": "cancel", "from": {"1": "Pending", "2": "Cancelled"}}
    request = parse_bulk({**body, "reason": "  out of stock ", "add": 5})
    assert request.ids == (2, 1) and request.reason == "out of stock"
    assert request.seen == {1: "Pending", 2: "Cancelled"}
    tagged = parse_bulk({"ids": [1], "action": "tag", "reason": 5, "add": [" VIP "]})
    assert (tagged.reason, tagged.add, tagged.seen) == (None, ("vip",), None)


LINE = {"product_id": 1, "quantity": 1}


@pytest.mark.parametrize(
    "items, method, address, status, message",
    [
        ("x", "pickup", None, 422, "Your cart is empty"),
        ([], "x", None, 422, "Your cart is empty"),
        ([5] * 51, "x", None, 422, "At most 50 different items"),
        ([LINE, 5, {"product_id": 0}], "x", None, 422, "Each item must be an object"),
        ([{"product_id": 0, "quantity": True}], "pickup", None, 404, "Unknown product: 0"),
        ([{"product_id": True, "quantity": 1}], "pickup", None, 422, "product_id must be"),
        ([{"quantity": 1}], "pickup", None, 422, "product_id must be an integer"),
        ([{"product_id": 1, "quantity": "1"}], "pickup", None, 422, "quantity must be"),
        ([{"product_id": 2, "quantity": 0}, LINE], "x", None, 422, "product 2 must be"),
        ([{"product_id": 1, "quantity": 60}] * 2, "pickup", None, 422, "between 1 and 99"),
        ([LINE], "Pickup", None, 422, "delivery_method must be one of: home delivery, pickup"),
        ([LINE], "home delivery", " ", 422, "needs a delivery address"),
        ([LINE], "home delivery", "x" * 301, 422, "longer than 300 characters"),
    ],
)
def test_a_checkout_gets_the_first_refusal_in_our_words(
    app, items, method, address, status, message
):
    with app.app_context(), pytest.raises((Invalid, NotFound)) as refused:
        parse_checkout(items, method, address)
    assert refused.value.status_code == status
    assert message in refused.value.message


def test_checkout_limits_come_from_the_config(make_app):
    app = make_app(CHECKOUT_MAX_LINES=2, CHECKOUT_MAX_QUANTITY=3)
    with app.app_context():
        with pytest.raises(Invalid, match="At most 2 different items"):
            parse_checkout([LINE] * 3, "pickup", None)
        with pytest.raises(Invalid, match="between 1 and 3"):
            parse_checkout([{"product_id": 1, "quantity": 4}], "pickup", None)
        request = parse_checkout([LINE, {"product_id": 1, "quantity": 2}], "pickup", 5)
    assert (request.lines, request.delivery_address) == ({1: 3}, None)

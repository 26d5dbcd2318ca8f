"""POST /api/orders: the JSON checkout, its idempotency and its refusals."""

import pytest

from app.services import orders
from tests.helpers import assert_json_error, db_state

DETAIL_KEYS = {
    "id",
    "order_number",
    "status",
    "customer",
    "items",
    "delivery_method",
    "delivery_address",
    "total_credits",
    "date_ordered",
    "estimated_delivery",
    "actual_delivery",
    "cancelled",
    "cancellation_reason",
    "updated_at",
    "next_status",
    "tags",
    "refunded_credits",
    "refundable_credits",
    "carrier",
    "tracking_number",
    "tracking_url",
}
ITEM_KEYS = {"id", "name", "category", "credit_value", "quantity"}


def body_for(shop, quantity=2, method="pickup", address=None):
    return {
        "items": [{"product_id": shop.products[0].id, "quantity": quantity}],
        "delivery_method": method,
        "delivery_address": address,
    }


def post(client, payload, key=None, **kwargs):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post("/api/orders", json=payload, headers=headers, **kwargs)


@pytest.fixture
def untouched(app, shop):
    """Call at the end of a test: asserts the DB is as it was at the start."""
    before = db_state(app, shop.alice.id, shop.bob.id)
    return lambda: db_state(app, shop.alice.id, shop.bob.id) == before


def test_create_order_returns_201_with_details(app, customer_client, shop):
    response = post(customer_client, body_for(shop, 3, "home delivery", "9 Canal Walk"))
    assert response.status_code == 201
    body = response.get_json()
    assert body["success"] is True
    order = body["order"]
    assert set(order) == DETAIL_KEYS
    assert [set(item) for item in order["items"]] == [ITEM_KEYS]
    assert order["items"][0] == {
        "id": shop.products[0].id,
        "name": "Sourdough loaf",
        "category": "Bakery",
        "credit_value": 6,
        "quantity": 3,
    }
    assert order["customer"] == {
        "id": shop.alice.id,
        "username": "alice",
        "email": "alice@example.com",
    }
    assert (order["status"], order["next_status"], order["total_credits"]) == (
        "Pending",
        "Shipped",
        18,
    )
    assert order["delivery_address"] == "9 Canal Walk"
    assert order["date_ordered"].endswith("Z") and order["actual_delivery"] is None
    assert order["cancelled"] is False and order["cancellation_reason"] is None
    state = db_state(app, shop.alice.id)
    assert state["credits"][shop.alice.id] == 1000 - 18
    assert state["stats"]["total_orders"] == state["stats"]["pending_count"] == 1


def test_same_idempotency_key_returns_the_same_order_once(app, customer_client, shop):
    first = post(customer_client, body_for(shop), key="abc-123")
    second = post(customer_client, body_for(shop), key="abc-123")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.get_json()["order"]["id"] == second.get_json()["order"]["id"]
    state = db_state(app, shop.alice.id)
    assert state["credits"][shop.alice.id] == 1000 - 12
    assert (state["orders"], state["stats"]["total_orders"]) == (1, 1)


def test_a_duplicate_that_loses_the_race_for_the_balance_gets_the_first_order(
    app, customer_client, shop, monkeypatch
):
    """Two requests with one key: the second looked the key up before the first committed,
    then its charge waited for the first's lock on the user row and found the credits spent.
    It must answer with the first order, not 422 "Not enough credits" (seen with 20 clicks
    at once on gunicorn + PostgreSQL, tests/test_reliability.py)."""
    first = post(customer_client, body_for(shop, 99), key="race")  # 594 of 1000 credits
    real_lookup = orders.find_by_idempotency_key
    lookups = []

    def not_committed_yet(user, key):
        lookups.append(key)
        return None if len(lookups) == 1 else real_lookup(user, key)

    monkeypatch.setattr(orders, "find_by_idempotency_key", not_committed_yet)
    second = post(customer_client, body_for(shop, 99), key="race")
    assert (first.status_code, second.status_code) == (201, 200), second.get_json()
    assert second.get_json()["order"]["id"] == first.get_json()["order"]["id"]
    state = db_state(app, shop.alice.id)
    assert state["credits"][shop.alice.id] == 1000 - 594
    assert (state["orders"], state["stats"]["total_orders"]) == (1, 1)


def test_idempotency_key_reused_for_another_order_is_422(app, customer_client, shop):
    post(customer_client, body_for(shop, 1), key="k")
    before = db_state(app, shop.alice.id)
    assert_json_error(post(customer_client, body_for(shop, 2), key="k"), 422, "different order")
    assert db_state(app, shop.alice.id) == before
    assert before["orders"] == 1 and before["credits"][shop.alice.id] == 1000 - 6


def test_without_key_each_post_is_a_new_order(app, customer_client, shop):
    post(customer_client, body_for(shop))
    post(customer_client, body_for(shop))
    assert db_state(app)["orders"] == 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": "{not json", "content_type": "application/json"},
        {"data": "[1, 2]", "content_type": "application/json"},
        {"data": '"items"', "content_type": "application/json"},
        {"data": '{"items": []}', "content_type": "text/plain"},
        {"data": {"items": "1"}},  # a form post
        {},
    ],
    ids=["malformed", "array", "string", "text-plain", "form", "empty"],
)
def test_malformed_requests_are_400(customer_client, shop, untouched, kwargs):
    response = customer_client.post("/api/orders", **kwargs)
    assert_json_error(response, 400, "json")
    assert untouched()


@pytest.mark.parametrize(
    "change, status",
    [
        ({"items": []}, 422),
        ({"items": None}, 422),
        ({"items": [{"product_id": 1, "quantity": 0}]}, 422),
        ({"items": [{"product_id": 1, "quantity": 100}]}, 422),
        ({"items": [{"product_id": 1, "quantity": True}]}, 422),
        ({"items": [{"product_id": 1, "quantity": "1"}]}, 422),
        ({"items": [{"product_id": 999, "quantity": 1}]}, 404),
        ({"items": [{"product_id": i, "quantity": 1} for i in range(1, 52)]}, 422),
        ({"delivery_method": "teleport"}, 422),
        ({"delivery_method": "home delivery", "delivery_address": None}, 422),
        ({"delivery_method": "home delivery", "delivery_address": "a" * 301}, 422),
        ({"items": [{"product_id": 4, "quantity": 99}]}, 422),  # 1089 credits > 1000
    ],
)
def test_rule_breaking_orders_are_refused_and_write_nothing(
    customer_client, shop, untouched, change, status
):
    response = post(customer_client, body_for(shop) | change, key="same-key")
    assert_json_error(response, status)
    assert untouched()


def test_out_of_range_product_id_is_a_client_error(customer_client, shop, untouched):
    response = post(
        customer_client, body_for(shop) | {"items": [{"product_id": 2**63, "quantity": 1}]}
    )
    assert response.status_code in (404, 422)
    assert untouched()


@pytest.mark.parametrize(
    "key", ["k" * 101, "   ", "bad\x7fkey"], ids=["overlong", "blank", "control"]
)
def test_bad_idempotency_key_is_400(customer_client, shop, untouched, key):
    assert_json_error(post(customer_client, body_for(shop), key=key), 400, "Idempotency-Key")
    assert untouched()


def test_key_of_100_characters_is_accepted(customer_client, shop):
    assert post(customer_client, body_for(shop), key="k" * 100).status_code == 201


def test_logged_out_is_401_json(client, shop, untouched):
    response = post(client, body_for(shop))
    assert_json_error(response, 401, "log in")
    assert "Location" not in response.headers
    assert untouched()


def test_oversized_body_is_refused(customer_client, shop, untouched):
    payload = body_for(shop) | {"delivery_address": "x" * 70_000}
    assert_json_error(post(customer_client, payload), 413)
    assert untouched()

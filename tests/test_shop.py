"""Storefront: catalogue, session cart and the HTML checkout."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Order
from tests.helpers import db_state


def cart_of(client) -> dict:
    with client.session_transaction() as session:
        return dict(session.get("cart", {}))


def flashes(client) -> list[tuple[str, str]]:
    """Flashed (category, message) pairs still waiting in the session."""
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


def add(client, product_id, quantity=1):
    return client.post("/cart/add", data={"product_id": product_id, "quantity": quantity})


def update(client, product_id, quantity):
    return client.post("/cart", data={"product_id": product_id, "quantity": quantity})


def error_flashed(client) -> bool:
    return any(category == "error" for category, _ in flashes(client))


# -- catalogue -----------------------------------------------------------------------------


def test_catalogue_lists_active_products(client, shop):
    page = client.get("/").get_data(as_text=True)
    assert all(p.name in page for p in shop.products)


@pytest.mark.parametrize(
    "query, shown, hidden",
    [
        ({"category": "Tea"}, {"Sencha green tea"}, {"Sourdough loaf", "Wildflower honey"}),
        ({"category": "Bakery"}, {"Sourdough loaf", "Rye bread"}, {"Sencha green tea"}),
        ({"q": "honey"}, {"Wildflower honey"}, {"Sourdough loaf", "Sencha green tea"}),
        ({"q": "shizuoka"}, {"Sencha green tea"}, {"Wildflower honey"}),  # description
        ({"q": "BREAD"}, {"Rye bread"}, {"Sencha green tea"}),  # case-insensitive
    ],
)
def test_catalogue_filters(client, shop, query, shown, hidden):
    response = client.get("/", query_string=query)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert all(name in page for name in shown)
    assert not any(name in page for name in hidden)


# -- cart ----------------------------------------------------------------------------------


def test_add_update_and_remove_cart_lines(client, shop):
    bread, tea = shop.products[0].id, shop.products[2].id
    assert add(client, bread, 2).status_code == 302
    add(client, bread, 1)
    add(client, tea, 4)
    assert cart_of(client) == {str(bread): 3, str(tea): 4}
    update(client, tea, 7)
    assert cart_of(client) == {str(bread): 3, str(tea): 7}
    update(client, bread, 0)
    assert cart_of(client) == {str(tea): 7}
    client.get("/cart")  # shows (and so consumes) the flashes that name products
    page = client.get("/cart").get_data(as_text=True)
    assert "Sencha green tea" in page and "Sourdough loaf" not in page


@pytest.mark.parametrize("quantity", [0, -1, 100, "abc", ""])
def test_add_with_bad_quantity_flashes_and_changes_nothing(client, shop, quantity):
    add(client, shop.products[0].id, 2)
    flashes(client)  # the success flash
    client.get("/cart")  # consume flashes
    response = add(client, shop.products[0].id, quantity)
    assert response.status_code == 302
    assert error_flashed(client)
    assert cart_of(client) == {str(shop.products[0].id): 2}


@pytest.mark.parametrize("product_id", ["999999", "abc", ""])
def test_add_unknown_product_flashes_and_changes_nothing(client, shop, product_id):
    add(client, product_id, 1)
    assert error_flashed(client)
    assert cart_of(client) == {}


def test_add_past_the_per_line_limit_is_refused(client, shop):
    add(client, shop.products[0].id, 60)
    add(client, shop.products[0].id, 60)
    assert error_flashed(client)
    assert cart_of(client) == {str(shop.products[0].id): 60}


@pytest.mark.parametrize("quantity", [-1, 100, "many"])
def test_update_with_bad_quantity_flashes_and_changes_nothing(client, shop, quantity):
    add(client, shop.products[0].id, 2)
    client.get("/cart")
    update(client, shop.products[0].id, quantity)
    assert error_flashed(client)
    assert cart_of(client) == {str(shop.products[0].id): 2}


def test_update_of_a_line_not_in_the_cart_changes_nothing(client, shop):
    update(client, 999_999, 5)
    assert cart_of(client) == {}


# -- checkout ------------------------------------------------------------------------------


def orders_of(app, user_id) -> list[Order]:
    with app.app_context():
        orders = db.session.scalars(sa.select(Order).where(Order.user_id == user_id)).all()
        db.session.expunge_all()
        return orders


def fill_cart(client, shop):
    add(client, shop.products[0].id, 2)  # 2 × 6
    add(client, shop.products[2].id, 1)  # 1 × 9
    return 21


def test_checkout_get_offers_an_idempotency_key(customer_client, shop):
    fill_cart(customer_client, shop)
    response = customer_client.get("/checkout")
    assert response.status_code == 200
    assert 'name="idempotency_key"' in response.get_data(as_text=True)


def test_checkout_pickup_places_the_order(app, customer_client, shop):
    total = fill_cart(customer_client, shop)
    response = customer_client.post("/checkout", data={"delivery_method": "pickup"})
    [order] = orders_of(app, shop.alice.id)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/orders/{order.order_number}"
    assert (order.delivery_method, order.delivery_address) == ("pickup", None)
    assert order.total_credits == total
    assert db_state(app, shop.alice.id)["credits"][shop.alice.id] == 1000 - total
    assert cart_of(customer_client) == {}


def test_checkout_home_delivery_stores_the_address(app, customer_client, shop):
    fill_cart(customer_client, shop)
    customer_client.post(
        "/checkout",
        data={"delivery_method": "home delivery", "delivery_address": "  4 Mill Lane  "},
    )
    [order] = orders_of(app, shop.alice.id)
    assert (order.delivery_method, order.delivery_address) == ("home delivery", "4 Mill Lane")


@pytest.mark.parametrize("address", ["", "   "])
def test_checkout_home_delivery_without_address_is_422_and_writes_nothing(
    app, customer_client, shop, address
):
    fill_cart(customer_client, shop)
    cart = cart_of(customer_client)
    before = db_state(app, shop.alice.id)
    response = customer_client.post(
        "/checkout", data={"delivery_method": "home delivery", "delivery_address": address}
    )
    assert response.status_code == 422
    assert "address" in response.get_data(as_text=True)
    assert db_state(app, shop.alice.id) == before
    assert cart_of(customer_client) == cart


def test_checkout_short_of_credits_is_422_and_writes_nothing(app, customer_client, shop):
    add(customer_client, shop.products[3].id, 99)  # 1089 > 1000
    before = db_state(app, shop.alice.id)
    response = customer_client.post("/checkout", data={"delivery_method": "pickup"})
    assert response.status_code == 422
    assert db_state(app, shop.alice.id) == before
    assert cart_of(customer_client) == {str(shop.products[3].id): 99}


def test_checkout_with_empty_cart_redirects_to_the_shop(app, customer_client, shop):
    before = db_state(app, shop.alice.id)
    for method in ("get", "post"):
        response = getattr(customer_client, method)(
            "/checkout", data={"delivery_method": "pickup"}
        )
        assert response.status_code == 302 and response.headers["Location"] == "/"
    assert db_state(app, shop.alice.id) == before


def test_checkout_needs_login(client, shop):
    fill_cart(client, shop)
    response = client.post("/checkout", data={"delivery_method": "pickup"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


def test_same_form_key_posted_twice_makes_one_order(app, customer_client, shop):
    form = {"delivery_method": "pickup", "idempotency_key": "form-key-1"}
    total = fill_cart(customer_client, shop)
    first = customer_client.post("/checkout", data=form)
    fill_cart(customer_client, shop)  # the double click resubmits the same cart
    second = customer_client.post("/checkout", data=form)
    [order] = orders_of(app, shop.alice.id)
    assert first.headers["Location"] == second.headers["Location"]
    assert first.headers["Location"].endswith(order.order_number)
    state = db_state(app, shop.alice.id)
    assert state["credits"][shop.alice.id] == 1000 - total
    assert state["stats"]["total_orders"] == 1


def test_same_form_key_with_another_cart_is_refused(app, customer_client, shop):
    form = {"delivery_method": "pickup", "idempotency_key": "form-key-2"}
    fill_cart(customer_client, shop)
    customer_client.post("/checkout", data=form)
    add(customer_client, shop.products[1].id, 1)
    before = db_state(app, shop.alice.id)
    assert customer_client.post("/checkout", data=form).status_code == 422
    assert db_state(app, shop.alice.id) == before

"""A customer's own orders: list, page, and no peeking at anyone else's."""

import pytest

from app.extensions import db
from app.models import User
from tests.factories import make_order, make_product

# What these tests check does not depend on the database: they run on SQLite only.
pytestmark = pytest.mark.one_database


@pytest.fixture
def numbers(app, shop):
    """One order each for alice and bob: ``{"alice": number, "bob": number}``."""
    with app.app_context():
        bread = make_product("Order test bread", credit_value=4)
        made = {
            name: make_order(db.session.get(User, getattr(shop, name).id), [(bread, 1)])
            for name in ("alice", "bob")
        }
        return {name: order.order_number for name, order in made.items()}


def test_orders_lists_only_own_orders(customer_client, numbers):
    response = customer_client.get("/orders")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert numbers["alice"] in page
    assert numbers["bob"] not in page


def test_own_order_page_is_shown(customer_client, numbers):
    response = customer_client.get(f"/orders/{numbers['alice']}")
    assert response.status_code == 200
    assert numbers["alice"] in response.get_data(as_text=True)


def test_someone_elses_order_is_404(customer_client, numbers):
    assert customer_client.get(f"/orders/{numbers['bob']}").status_code == 404


def test_unknown_order_is_404(customer_client, numbers):
    assert customer_client.get("/orders/ORD-19990101-00001").status_code == 404


def test_admin_may_open_any_order(admin_client, numbers):
    assert admin_client.get(f"/orders/{numbers['bob']}").status_code == 200


@pytest.mark.parametrize("path", ["/orders", "/orders/ORD-19990101-00001", "/checkout"])
def test_anonymous_is_sent_to_login(client, numbers, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")

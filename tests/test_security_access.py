"""Access control over the whole url_map.

tests/test_admin_api.py already walks /admin with empty bodies; here every rule of the app is
walked (HEAD included), customers are refused on /admin with *valid* bodies against a real
order and nothing is written, roles are re-read on every request, and another customer's
order looks exactly like a missing one.
"""

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Order, OrderActivity, Product, User
from tests.factories import make_order
from tests.helpers import assert_json_error
from tests.security_helpers import concrete_url, is_json_path, rules, snapshot

# What these tests check does not depend on the database: they run on SQLite only.
pytestmark = pytest.mark.one_database

# Endpoints an anonymous visitor may use. Every other rule must ask for a login, so a new
# route is private until someone adds it here on purpose.
PUBLIC_ENDPOINTS = {
    "shop.index",
    "shop.view_cart",
    "shop.cart_add",
    "auth.login",
    "shop.login_alias",
    "auth.register",
    "auth.logout",
    "health.healthz",
    "health.readyz",
    "health.metrics",
    "stream.catalogue_stream",
    "static",
}
# Bodies that an admin would send successfully, so a refusal can only come from the role.
ADMIN_BODIES = {
    "admin_api.order_status": {"status": "Shipped"},
    "admin_api.order_cancel": {"reason": "Customer asked"},
    # Callables get the order id the walk acts on and the app.
    "bulk_api.orders_bulk": lambda order_id, app: {
        "ids": [int(order_id)],
        "action": "advance",
        "from": {str(order_id): status_of(app, order_id)},
    },
    # The walk reaches undo right after the admin's cancel of the same order: undo that.
    "admin_api.order_undo": lambda order_id, app: {"activity_id": latest_change(app, order_id)},
    "presence.presence": lambda order_id, app: {"order_id": int(order_id), "action": "viewing"},
    "order_tools_api.add_note": {"text": "Called the customer"},
    "order_tools_api.change_tags": {"add": ["vip"]},
    "order_tools_api.refund": {"credits": 1, "reason": "Late"},
    "saved_views_api.create_view": {"name": "Pending", "query": "status=Pending"},
    "catalogue.api_create": {"name": "Oat loaf", "category": "Bakery", "credit_value": 4},
}
# HTML forms (posted as forms, not JSON) and query strings the walk sends.
PRODUCT_FORM = {"name": "Oat loaf", "category": "Bakery", "credit_value": "4", "stock": "3"}
ADMIN_FORMS = {"catalogue.product_new": PRODUCT_FORM, "catalogue.product_edit": PRODUCT_FORM}
ADMIN_QUERIES = {"packing.packing_slips": "?ids=1,2"}


def status_of(app, order_id) -> str:
    """The order's status as the page would show it (bulk sends it as ``from``)."""
    with app.app_context():
        order = db.session.get(Order, int(order_id))
        shown = "Cancelled" if order.cancelled else order.status
        db.session.remove()
    return shown


def latest_change(app, order_id) -> int | None:
    """The id of the order's newest activity entry."""
    with app.app_context():
        found = db.session.scalar(
            sa.select(sa.func.max(OrderActivity.id)).where(OrderActivity.order_id == order_id)
        )
        db.session.remove()
    return found


@pytest.fixture
def orders(app, shop):
    """One pickup order each for alice and bob: ``{"alice": (id, number), "bob": ...}``."""
    with app.app_context():
        product = db.session.get(Product, shop.products[0].id)
        made = {}
        for name in ("alice", "bob"):
            order = make_order(db.session.get(User, getattr(shop, name).id), [(product, 1)])
            made[name] = (order.id, order.order_number)
        return made


def request(client, rule, method, **values):
    url = concrete_url(rule, **values) + ADMIN_QUERIES.get(rule.endpoint, "")
    if method == "POST" and rule.endpoint in ADMIN_FORMS:
        return url, client.open(url, method=method, data=ADMIN_FORMS[rule.endpoint])
    body = ADMIN_BODIES.get(rule.endpoint) if method == "POST" else None
    if callable(body):
        body = body(values.get("order_id", 1), client.application)
    return url, client.open(url, method=method, json=body)


def test_the_walk_covers_every_kind_of_rule(app):
    private = {r.endpoint for r, _ in rules(app)} - PUBLIC_ENDPOINTS
    assert {
        "account.my_orders",
        "account.order_page",
        "account.cancel_order",
        "admin.export_orders",
        "bulk_api.orders_bulk",
        "bulk_api.order_ids",
        "stream.order_stream",
        "stream.admin_stream",
        "api.create_order",
        "shop.checkout",
        "admin.manage_orders",
        "admin_api.order_status",
        "admin_api.order_cancel",
        "admin_api.order_undo",
        "order_tools_api.add_note",
        "order_tools_api.change_tags",
        "order_tools_api.refund",
        "saved_views_api.create_view",
        "catalogue.api_create",
        "catalogue.api_update",
        "customers.customer_page",
        "packing.packing_slips",
    } <= private
    # Every argument of every rule can be filled in (a KeyError names a new one).
    assert all(concrete_url(rule).startswith("/") for rule, _ in rules(app))


def test_every_private_rule_refuses_anonymous_for_every_method(app, client, orders):
    before = snapshot(app)
    checked = 0
    for rule, method in rules(app):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url, response = request(client, rule, method, order_number=orders["alice"][1])
        checked += 1
        if is_json_path(url):
            assert response.status_code == 401, (method, url)
            assert response.is_json and "Location" not in response.headers, (method, url)
            if method != "HEAD":
                assert_json_error(response, 401)
        else:
            assert response.status_code == 302, (method, url, response.status_code)
            assert response.headers["Location"].startswith("/auth/login"), (method, url)
    assert checked >= 15
    assert snapshot(app) == before


def test_customers_are_refused_on_admin_rules_even_with_valid_bodies(app, customer_client, orders):
    before = snapshot(app)
    for rule, method in rules(app, "/admin"):
        url, response = request(customer_client, rule, method, order_id=orders["alice"][0])
        assert response.status_code == 403, (method, url, response.status_code)
        if is_json_path(url) and method != "HEAD":
            assert_json_error(response, 403)
    assert snapshot(app) == before


def test_the_same_admin_requests_work_for_an_admin(app, admin_client, orders):
    """Proves the refusals above come from the role, not from a broken URL or body."""
    for rule, method in rules(app, "/admin", methods={"GET", "POST"}):
        if rule.endpoint == "stream.admin_stream":
            continue  # streams are opened and read in tests/test_stream.py
        url, response = request(admin_client, rule, method, order_id=orders["bob"][0])
        assert response.status_code in (200, 201, 302), (method, url, response.status_code)
    state = snapshot(app)
    # bob's order: shipped, cancelled, the cancel undone, then advanced by the bulk action.
    assert [(o.status, o.cancelled) for o in state["orders"]] == [
        ("Pending", False),
        ("Out for Delivery", False),
    ]


def test_a_demoted_admin_loses_access_on_the_next_request(app, admin_client, shop):
    assert admin_client.get("/admin/api/order-updates").status_code == 200
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == shop.admin.id).values(role="customer"))
        db.session.commit()
    assert_json_error(admin_client.get("/admin/api/order-updates"), 403)
    assert admin_client.get("/admin/manage_orders").status_code == 403


def test_a_deleted_user_is_logged_out(app, customer_client, shop):
    with app.app_context():
        db.session.execute(sa.delete(User).where(User.id == shop.alice.id))
        db.session.commit()
    assert_json_error(customer_client.post("/api/orders", json={}), 401)
    assert customer_client.get("/orders").headers["Location"].startswith("/auth/login")


def without_csrf_tokens(body: bytes) -> bytes:
    """``body`` with each CSRF token's timestamp and signature blanked."""
    return re.sub(rb'(csrf[-_]token" (?:content|value)=")[^"]*"', rb'\1"', body)


@pytest.mark.parametrize("suffix", ["", "/stream"], ids=["page", "stream"])
def test_another_customers_order_looks_like_a_missing_one(customer_client, orders, suffix):
    bobs = customer_client.get(f"/orders/{orders['bob'][1]}{suffix}")
    missing = customer_client.get(f"/orders/ORD-19990101-00001{suffix}")
    assert bobs.status_code == missing.status_code == 404
    # Same body: the answer does not tell which order numbers exist. (The page's CSRF token
    # is signed with a timestamp in seconds: two requests a second apart differ there.)
    assert without_csrf_tokens(bobs.get_data()) == without_csrf_tokens(missing.get_data())
    assert orders["bob"][1] not in bobs.get_data(as_text=True)


def test_an_idempotency_key_is_private_to_its_customer(app, customer_client, other_client, shop):
    body = {
        "items": [{"product_id": shop.products[0].id, "quantity": 1}],
        "delivery_method": "home delivery",
        "delivery_address": "1 Secret Street",
    }
    headers = {"Idempotency-Key": "shared-key"}
    alices = customer_client.post("/api/orders", json=body, headers=headers).get_json()["order"]
    response = other_client.post("/api/orders", json=body, headers=headers)
    assert response.status_code == 201  # a new order of bob's, not alice's replayed
    bobs = response.get_json()["order"]
    assert bobs["order_number"] != alices["order_number"]
    assert bobs["customer"]["username"] == "bob"

"""Limits: login attempts and checkouts are rate-limited (Flask-Limiter,
Redis storage when ``REDIS_URL`` is set), and bodies over ``MAX_CONTENT_LENGTH`` are refused
before anything is written. The per-user stream cap is tested in tests/test_stream.py."""

import uuid

import pytest

from app.extensions import limiter
from config import Config, TestConfig
from tests.factories import seed_shop
from tests.helpers import assert_json_error, logged_in_client
from tests.security_helpers import cart_of, flashes, is_logged_in, snapshot
from tests.services_required import redis_url

# What these tests check does not depend on the database: they run on SQLite only.
pytestmark = pytest.mark.one_database


def order_body(shop, product=0):
    return {
        "items": [{"product_id": shop.products[product].id, "quantity": 1}],
        "delivery_method": "pickup",
    }


def attempt(client, username, password="wrong-pass", **kwargs):
    return client.post("/auth/login", data={"username": username, "password": password}, **kwargs)


def test_limits_come_from_config_and_are_off_in_tests(app, client, shop):
    defaults = (Config.RATELIMIT_LOGIN, Config.RATELIMIT_CHECKOUT)
    assert defaults == ("10 per minute", "30 per minute")
    assert Config.RATELIMIT_ENABLED and not TestConfig.RATELIMIT_ENABLED
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"  # no REDIS_URL in tests
    for _ in range(15):  # past the production limit: tests are not slowed by it
        assert attempt(client, "alice").status_code == 200


# -- login ---------------------------------------------------------------------------------


@pytest.fixture
def limited_app(make_app):
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_LOGIN="3 per minute",
        RATELIMIT_LOGIN_DEVICE="3 per minute",
        RATELIMIT_CHECKOUT="2 per minute",
    )
    app.shop = seed_shop(app)
    return app


def test_login_attempts_are_limited_per_address_and_username(limited_app):
    client = limited_app.test_client()
    for _ in range(3):
        assert attempt(client, "alice").status_code == 200
    client.get("/auth/login")  # consume the "wrong password" flashes
    # Even the right password is refused now: guessing stops for this account and address.
    refused = attempt(client, "Alice ", limited_app.shop.password)
    assert refused.status_code == 303
    assert refused.headers["Location"] == "/auth/login"
    assert int(refused.headers["Retry-After"]) > 0
    [(category, message)] = flashes(client)
    assert category == "error" and "too many login attempts" in message.lower()
    assert not is_logged_in(client)
    # Another account from the same address, and the same account from elsewhere, still work.
    assert attempt(client, "bob", limited_app.shop.password).status_code == 302
    elsewhere = limited_app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert attempt(elsewhere, "alice", limited_app.shop.password).status_code == 302


def test_successful_logins_do_not_count(limited_app):
    client = limited_app.test_client()
    for _ in range(5):  # past the limit of 3: only failures use it up
        assert attempt(client, "alice", limited_app.shop.password).status_code == 302
        client.post("/auth/logout")
    # This browser now holds alice's device cookie: its failures count on its own budget.
    for _ in range(3):
        assert attempt(client, "alice").status_code == 200
    assert attempt(client, "alice", limited_app.shop.password).status_code == 303


def test_a_refused_login_keeps_the_next_parameter(limited_app):
    client = limited_app.test_client()
    for _ in range(3):
        attempt(client, "alice")
    response = client.post(
        "/auth/login?next=/orders", data={"username": "alice", "password": "wrong-pass"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/login?next=/orders"


def test_a_json_client_gets_429_json(limited_app):
    client = limited_app.test_client()
    headers = {"Accept": "application/json"}
    for _ in range(3):
        attempt(client, "alice", headers=headers)
    response = attempt(client, "alice", headers=headers)
    assert_json_error(response, 429, "too many login attempts")
    assert "Location" not in response.headers


def test_the_login_page_itself_is_not_limited(limited_app):
    client = limited_app.test_client()
    for _ in range(3):
        attempt(client, "alice")
    assert all(client.get("/auth/login").status_code == 200 for _ in range(5))


# -- checkout ------------------------------------------------------------------------------


def test_checkouts_are_limited_per_user_across_html_and_json(limited_app):
    app, shop = limited_app, limited_app.shop
    alice = logged_in_client(app, "alice")
    assert alice.post("/api/orders", json=order_body(shop)).status_code == 201
    alice.post("/cart/add", data={"product_id": shop.products[1].id, "quantity": 2})
    assert alice.post("/checkout", data={"delivery_method": "pickup"}).status_code == 302
    before = snapshot(app)

    response = alice.post("/api/orders", json=order_body(shop))
    assert_json_error(response, 429, "too many checkouts")
    assert int(response.headers["Retry-After"]) > 0

    alice.post("/cart/add", data={"product_id": shop.products[1].id, "quantity": 2})
    alice.get("/cart")  # consume the flashes so far
    page = alice.post("/checkout", data={"delivery_method": "pickup"})
    assert page.status_code == 303 and page.headers["Location"] == "/checkout"
    assert [category for category, _ in flashes(alice)] == ["error"]
    assert cart_of(alice) == {str(shop.products[1].id): 2}  # kept for later
    assert alice.get("/checkout").status_code == 200  # showing the form is not limited
    assert snapshot(app) == before

    bob = logged_in_client(app, "bob")  # per user: others are not held up
    assert bob.post("/api/orders", json=order_body(shop)).status_code == 201


def test_an_anonymous_checkout_is_refused_before_it_counts(limited_app):
    app, shop = limited_app, limited_app.shop
    client = app.test_client()
    for _ in range(4):
        assert_json_error(client.post("/api/orders", json=order_body(shop)), 401)
    login = attempt(client, "alice", shop.password)
    assert login.status_code == 302
    assert client.post("/api/orders", json=order_body(shop)).status_code == 201


def test_limits_use_redis_when_redis_url_is_set(make_app):
    url = redis_url()
    import redis

    app = make_app(REDIS_URL=url, RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="2 per minute")
    assert app.config["RATELIMIT_STORAGE_URI"] == url
    assert type(limiter.storage).__name__.startswith("Redis")
    username = f"nobody-{uuid.uuid4().hex[:12]}"
    server = redis.Redis.from_url(url)
    try:
        client = app.test_client()
        assert [attempt(client, username).status_code for _ in range(3)] == [200, 200, 303]
        # The counter lives in Redis, where every worker and host sees it.
        assert server.keys(f"*{username}*")
    finally:
        for key in server.keys(f"*{username}*"):
            server.delete(key)


# -- request size --------------------------------------------------------------------------

BIG = "x" * (64 * 1024 + 1)


@pytest.fixture
def order_id(app, customer_client, shop):
    response = customer_client.post("/api/orders", json=order_body(shop))
    return response.get_json()["order"]["id"]


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/orders", {"items": [], "delivery_method": "pickup", "delivery_address": BIG}),
        ("/admin/api/order/{id}/status", {"status": "Shipped", "pad": BIG}),
        ("/admin/api/order/{id}/cancel", {"reason": BIG}),
    ],
    ids=["checkout", "status", "cancel"],
)
def test_oversized_json_is_413_json_and_writes_nothing(
    app, admin_client, order_id, shop, path, body
):
    before = snapshot(app)
    response = admin_client.post(path.format(id=order_id), json=body)
    assert_json_error(response, 413, "too large")
    assert snapshot(app) == before


@pytest.mark.parametrize(
    "path, form",
    [
        ("/auth/register", {"username": "carol", "email": "c@example.com", "password": BIG}),
        ("/checkout", {"delivery_method": "home delivery", "delivery_address": BIG}),
        ("/cart/add", {"product_id": "1", "quantity": "1", "pad": BIG}),
    ],
    ids=["register", "checkout", "cart"],
)
def test_oversized_forms_are_413_and_write_nothing(app, customer_client, shop, path, form):
    customer_client.post("/cart/add", data={"product_id": shop.products[0].id, "quantity": 1})
    before, cart = snapshot(app), cart_of(customer_client)
    response = customer_client.post(path, data=form)
    assert response.status_code == 413
    assert "text/html" in response.headers["Content-Type"]
    assert snapshot(app) == before
    assert cart_of(customer_client) == cart


def test_a_body_just_under_the_cap_is_read(customer_client, shop):
    payload = order_body(shop) | {"pad": "x" * (60 * 1024)}
    assert customer_client.post("/api/orders", json=payload).status_code == 201

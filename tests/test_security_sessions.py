"""Sessions and security headers: cookie flags in every configuration, a
new session at login (only the cart survives), and CSP / nosniff / Referrer-Policy on pages,
JSON answers, errors and streams."""

import secrets

import pytest

from app import create_app
from app.extensions import db
from config import ProductionConfig
from tests.factories import make_user, seed_shop
from tests.helpers import assert_json_error, csrf_token, logged_in_client
from tests.security_helpers import cart_of, is_logged_in

# What these tests check does not depend on the database: they run on SQLite only.
pytestmark = pytest.mark.one_database

SESSION_COOKIE = "session"


def session_set_cookie(response) -> str:
    [header] = [
        value
        for value in response.headers.getlist("Set-Cookie")
        if value.startswith(f"{SESSION_COOKIE}=")
    ]
    return header


def cookie_attributes(header: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}


def session_cookie(client) -> str:
    return client.get_cookie(SESSION_COOKIE).value


# -- cookies -------------------------------------------------------------------------------


def test_session_cookie_is_httponly_and_samesite_lax(client, shop):
    response = client.post("/auth/login", data={"username": "alice", "password": shop.password})
    header = session_set_cookie(response)
    assert {"httponly", "samesite"} <= cookie_attributes(header)
    assert "SameSite=Lax" in header
    assert "secure" not in cookie_attributes(header)  # tests and development run on http


@pytest.fixture
def production_app(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", secrets.token_hex(32))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    app = create_app("production", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'prod.db'}")
    with app.app_context():
        db.create_all()
    yield app
    app.extensions["realtime"].stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_production_cookies_are_secure_too(production_app):
    assert ProductionConfig.SESSION_COOKIE_SECURE and ProductionConfig.REMEMBER_COOKIE_SECURE
    assert production_app.config["WTF_CSRF_ENABLED"] is not False  # CSRF is on in production
    with production_app.app_context():
        make_user(username="prod-user")
    client = production_app.test_client()
    form = {"username": "prod-user", "password": "password123", "csrf_token": csrf_token(client)}
    response = client.post("/auth/login", data=form)
    assert response.status_code == 302
    header = session_set_cookie(response)
    assert {"secure", "httponly", "samesite"} <= cookie_attributes(header)
    assert "SameSite=Lax" in header


def test_production_refuses_to_start_without_its_secrets(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")


# -- session renewal at login --------------------------------------------------------------


def plant(client, shop):
    """An anonymous session holding a cart and a value an attacker could have planted."""
    client.post("/cart/add", data={"product_id": shop.products[0].id, "quantity": 2})
    with client.session_transaction() as session:
        session["planted"] = "attacker-known"
        session["_fresh"] = True
    return session_cookie(client)


def test_login_renews_the_session_but_keeps_the_cart(client, shop):
    before = plant(client, shop)
    response = client.post("/auth/login", data={"username": "alice", "password": shop.password})
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"].split(":")[0] == str(shop.alice.id)
    assert cart_of(client) == {str(shop.products[0].id): 2}
    assert session_cookie(client) != before


def test_failed_login_leaves_the_session_alone(client, shop):
    plant(client, shop)
    client.post("/auth/login", data={"username": "alice", "password": "wrong-pass"})
    with client.session_transaction() as session:
        assert session["planted"] == "attacker-known"
        assert "_user_id" not in session


def test_register_renews_the_session_too(client, shop):
    plant(client, shop)
    response = client.post(
        "/auth/register",
        data={
            "username": "carol",
            "email": "carol@example.com",
            "password": "longpassword1",
            "confirm": "longpassword1",
        },
    )
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session and session["_user_id"]
    assert cart_of(client) == {str(shop.products[0].id): 2}


def test_login_renews_the_csrf_secret(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    shop = seed_shop(app)
    client = app.test_client()
    old_token = csrf_token(client)
    response = client.post(
        "/auth/login",
        data={"username": "alice", "password": shop.password, "csrf_token": old_token},
    )
    assert response.status_code == 302
    body = {
        "items": [{"product_id": shop.products[0].id, "quantity": 1}],
        "delivery_method": "pickup",
    }
    # A token known before login (say, from a planted session) is worthless after it.
    stale = client.post("/api/orders", json=body, headers={"X-CSRFToken": old_token})
    assert_json_error(stale, 400, "csrf")
    fresh = client.post("/api/orders", json=body, headers={"X-CSRFToken": csrf_token(client)})
    assert fresh.status_code == 201


def test_a_session_replayed_from_another_browser_is_refused(customer_client):
    """Flask-Login's "strong" protection: the session is bound to the address and browser
    that logged in, so a stolen cookie used elsewhere is logged out."""
    assert is_logged_in(customer_client)
    customer_client.environ_base["HTTP_USER_AGENT"] = "stolen-cookie-browser/1.0"
    assert not is_logged_in(customer_client)


# -- security headers ----------------------------------------------------------------------


def assert_security_headers(response):
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp and "script-src 'self'" in csp, csp
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp, csp
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("Referrer-Policy") in ("same-origin", "strict-origin-when-cross-origin")
    assert headers.get("X-Frame-Options") == "DENY"


@pytest.mark.parametrize(
    "who, path, status",
    [
        ("anonymous", "/", 200),
        ("anonymous", "/auth/login", 200),
        ("anonymous", "/no-such-page", 404),
        ("anonymous", "/orders", 302),
        ("anonymous", "/admin/api/order-updates", 401),
        ("anonymous", "/healthz", 200),
        ("customer", "/admin/orders/stream", 403),
        ("admin", "/admin/manage_orders", 200),
        ("admin", "/admin/api/order-updates", 200),
        ("admin", "/admin/api/order-updates?minutes=x", 400),
    ],
)
def test_security_headers_on_pages_json_and_errors(app, shop, who, path, status):
    client = app.test_client() if who == "anonymous" else logged_in_client(app, who_name(who))
    response = client.get(path)
    assert response.status_code == status
    assert_security_headers(response)


def who_name(who: str) -> str:
    return {"customer": "alice", "admin": "boss"}[who]


def test_security_headers_on_json_writes(customer_client, shop):
    response = customer_client.post("/api/orders", data="{oops", content_type="application/json")
    assert_json_error(response, 400)
    assert_security_headers(response)


def test_security_headers_on_streams(open_stream, admin_client, customer_client, shop):
    assert_security_headers(open_stream(admin_client, "/admin/orders/stream").response)
    order = customer_client.post(
        "/api/orders",
        json={
            "items": [{"product_id": shop.products[0].id, "quantity": 1}],
            "delivery_method": "pickup",
        },
    ).get_json()["order"]
    stream = open_stream(customer_client, f"/orders/{order['order_number']}/stream")
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    assert_security_headers(stream.response)

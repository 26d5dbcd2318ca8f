"""Register, log in, log out, and the login redirect's ``next``."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import User
from tests.helpers import login

# What these tests check does not depend on the database: they run on SQLite only.
pytestmark = pytest.mark.one_database


def register(client, username="carol", email="carol@example.com", password="longpassword1"):
    return client.post(
        "/auth/register",
        data={"username": username, "email": email, "password": password, "confirm": password},
    )


def find_user(app, username):
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        return None if user is None else (user.role, user.credits, user.email)


def is_logged_in(client) -> bool:
    # /orders needs a login; an anonymous visitor is sent to the login page.
    return client.get("/orders").status_code != 302


def test_register_creates_a_customer_with_signup_credits_and_logs_in(app, client):
    response = register(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert find_user(app, "carol") == (
        "customer",
        app.config["SIGNUP_CREDITS"],
        "carol@example.com",
    )
    with client.session_transaction() as session:
        assert session.get("_user_id")


def test_register_duplicate_username_is_409(app, client, shop):
    response = register(client, username="alice", email="new@example.com")
    assert response.status_code == 409
    assert b"already registered" in response.data
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 3


@pytest.mark.parametrize(
    "fields",
    [
        {"username": "x"},  # too short
        {"username": "bad name!"},
        {"email": "not-an-email"},
        {"password": "short"},
    ],
)
def test_register_rejects_bad_input(app, client, fields):
    form = {"username": "dora", "email": "dora@example.com", "password": "longpassword1"}
    form |= fields
    form["confirm"] = form["password"]
    response = client.post("/auth/register", data=form)
    assert response.status_code == 200
    assert find_user(app, form["username"]) is None


def test_login_redirects_customer_to_shop_and_admin_to_dashboard(app, shop):
    customer, admin = app.test_client(), app.test_client()
    assert login(customer, "alice", shop.password).headers["Location"] == "/"
    assert login(admin, "boss", shop.password).headers["Location"] == "/admin/manage_orders"


def test_login_with_wrong_password_is_refused(client, shop):
    response = client.post("/auth/login", data={"username": "alice", "password": "wrong-pass"})
    assert response.status_code == 200
    assert b"Wrong username or password" in response.data
    assert not is_logged_in(client)


def test_login_with_unknown_user_is_refused(client, shop):
    response = client.post("/auth/login", data={"username": "nobody", "password": "whatever1"})
    assert response.status_code == 200
    assert not is_logged_in(client)


def test_logout_is_post_only(customer_client):
    assert customer_client.get("/auth/logout").status_code == 405
    assert is_logged_in(customer_client)
    response = customer_client.post("/auth/logout")
    assert response.status_code == 302
    assert not is_logged_in(customer_client)


def test_login_follows_a_local_next(client, shop):
    response = client.post(
        "/auth/login?next=/orders", data={"username": "alice", "password": shop.password}
    )
    assert response.headers["Location"] == "/orders"


def test_login_page_redirects_when_already_logged_in(customer_client):
    """To a safe ``next`` (a page whose stream ended because this browser's session got a
    new id comes back to itself), else to the shop."""
    response = customer_client.get("/auth/login?next=/orders")
    assert response.status_code == 302 and response.headers["Location"] == "/orders"
    response = customer_client.get("/auth/login?next=//evil.example/x")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert customer_client.get("/auth/login").headers["Location"] == "/"


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "https://evil.example/x", "///evil.example", "http:/evil.example"],
)
def test_login_ignores_an_offsite_next(client, shop, target):
    response = client.post(
        "/auth/login",
        query_string={"next": target},
        data={"username": "alice", "password": shop.password},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_ignores_a_backslash_next_that_browsers_read_as_offsite(client, shop):
    response = client.post(
        "/auth/login",
        query_string={"next": "/\\evil.example"},
        data={"username": "alice", "password": shop.password},
    )
    assert "evil.example" not in response.headers["Location"]


def test_login_ignores_a_next_with_a_tab_trick(client, shop):
    # urlsplit drops tabs the way browsers do, so "/<TAB>/evil" is seen as "//evil".
    response = client.post(
        "/auth/login",
        query_string={"next": "/\t/evil.example"},
        data={"username": "alice", "password": shop.password},
    )
    assert response.headers["Location"] == "/"

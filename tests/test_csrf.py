"""CSRF on: JSON writes need the X-CSRFToken header, HTML forms the csrf_token field."""

import pytest

from tests.factories import PASSWORD
from tests.helpers import assert_json_error, csrf_token, db_state

# What these tests check does not depend on the database: they run on SQLite only.
pytestmark = pytest.mark.one_database


def logged_in_with_token(app, username):
    """``(client, token)``: logged in through the form with the page's token; the token is
    read again after login, as a browser does, because login renews the session."""
    client = app.test_client()
    token = csrf_token(client)
    response = client.post(
        "/auth/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302 and "/auth/login" not in response.headers["Location"]
    return client, csrf_token(client)


def order_payload(shop):
    return {
        "items": [{"product_id": shop.products[0].id, "quantity": 1}],
        "delivery_method": "pickup",
    }


def test_page_carries_a_csrf_meta_tag(csrf_app):
    assert len(csrf_token(csrf_app.test_client())) > 20


def test_login_form_without_token_is_refused(csrf_app, csrf_shop):
    client = csrf_app.test_client()
    response = client.post("/auth/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 303
    assert client.get("/orders").status_code == 302  # still anonymous


def test_api_order_without_token_is_400_and_writes_nothing(csrf_app, csrf_shop):
    client, _ = logged_in_with_token(csrf_app, "alice")
    before = db_state(csrf_app, csrf_shop.alice.id)
    assert_json_error(client.post("/api/orders", json=order_payload(csrf_shop)), 400, "csrf")
    response = client.post(
        "/api/orders", json=order_payload(csrf_shop), headers={"X-CSRFToken": "forged"}
    )
    assert_json_error(response, 400, "csrf")
    assert db_state(csrf_app, csrf_shop.alice.id) == before


def test_api_order_with_token_succeeds(csrf_app, csrf_shop):
    client, token = logged_in_with_token(csrf_app, "alice")
    response = client.post(
        "/api/orders", json=order_payload(csrf_shop), headers={"X-CSRFToken": token}
    )
    assert response.status_code == 201
    assert db_state(csrf_app)["orders"] == 1


def test_admin_status_change_needs_the_token(csrf_app, csrf_shop):
    customer, customer_token = logged_in_with_token(csrf_app, "alice")
    order = customer.post(
        "/api/orders", json=order_payload(csrf_shop), headers={"X-CSRFToken": customer_token}
    ).get_json()["order"]
    admin, token = logged_in_with_token(csrf_app, "boss")
    url = f"/admin/api/order/{order['id']}/status"
    before = db_state(csrf_app)
    assert_json_error(admin.post(url, json={"status": "Shipped"}), 400, "csrf")
    assert db_state(csrf_app) == before
    response = admin.post(url, json={"status": "Shipped"}, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert db_state(csrf_app)["stats"]["shipped_count"] == 1


def test_another_sessions_token_is_refused(csrf_app, csrf_shop):
    client, _ = logged_in_with_token(csrf_app, "alice")
    _, other_token = logged_in_with_token(csrf_app, "bob")
    response = client.post(
        "/api/orders", json=order_payload(csrf_shop), headers={"X-CSRFToken": other_token}
    )
    assert_json_error(response, 400, "csrf")


def test_logout_without_token_keeps_the_session(csrf_app, csrf_shop):
    client, token = logged_in_with_token(csrf_app, "alice")
    client.post("/auth/logout")
    assert client.get("/orders").status_code == 200
    client.post("/auth/logout", data={"csrf_token": token})
    assert client.get("/orders").status_code == 302

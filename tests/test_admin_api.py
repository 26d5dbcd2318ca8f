"""Admin pages and JSON API: access rules on every /admin route, shapes, status and cancel."""

import re

import pytest

from app.extensions import db
from app.models import Order
from tests.helpers import ORDER_EVENT_KEYS, STAT_KEYS, assert_json_error, db_state
from tests.security_helpers import is_json_path
from tests.test_api import DETAIL_KEYS, ITEM_KEYS

CONTRACT_KEYS = DETAIL_KEYS - {"updated_at", "next_status"}  # the seed contract's keys
SUMMARY_KEYS = ORDER_EVENT_KEYS | {
    "updated_at",
    "cancelled",
    "next_status",
    "email",
    "cancellation_reason",
    "estimated_delivery",
    "actual_delivery",
    "tags",
    "refunded_credits",
    "carrier",
    "tracking_number",
}


def admin_rules(app):
    """``[(url, method, is_json)]`` for every rule under /admin, order ids filled in."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        url = re.sub(r"<any\(([a-z]+)[^>]*>", r"\1", rule.rule)
        url = re.sub(r"<username>", "alice", url)
        url = re.sub(r"<(?:int:)?[a-z_]+>", "1", url)
        is_json = is_json_path(url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((url, method, is_json))
    return found


def call(client, url, method):
    return client.open(url, method=method, json={} if method == "POST" else None)


def test_walk_finds_every_admin_route(app):
    urls = {url for url, _, _ in admin_rules(app)}
    assert {
        "/admin/",
        "/admin/manage_orders",
        "/admin/orders/stream",
        "/admin/api/order-updates",
        "/admin/api/order/1/details",
        "/admin/api/order/1/status",
        "/admin/api/order/1/cancel",
        "/admin/api/orders/bulk",
        "/admin/api/orders/ids",
        "/admin/orders.csv",
    } <= urls


def test_anonymous_gets_401_json_or_the_login_page(app, client, shop):
    for url, method, is_json in admin_rules(app):
        response = call(client, url, method)
        if is_json:
            assert_json_error(response, 401)
        else:
            assert response.status_code == 302, url
            assert response.headers["Location"].startswith("/auth/login"), url


def test_customer_gets_403(app, customer_client):
    for url, method, is_json in admin_rules(app):
        response = call(customer_client, url, method)
        if is_json:
            assert_json_error(response, 403)
        else:
            assert response.status_code == 403, url


def test_admin_pages_render(admin_client, placed):
    assert admin_client.get("/admin/").headers["Location"] == "/admin/manage_orders"
    response = admin_client.get("/admin/manage_orders")
    assert response.status_code == 200
    assert placed["number"] in response.get_data(as_text=True)


def table_rows(response) -> str:
    """The orders table's body (the activity list elsewhere on the page names orders too)."""
    html = response.get_data(as_text=True)
    return html.split("<tbody data-orders-body>", 1)[1].split("</tbody>", 1)[0]


@pytest.mark.parametrize("query", [{"status": "Pending"}, {"q": "alice"}, {"status": "Bogus"}])
def test_dashboard_filters_keep_the_order(admin_client, placed, query):
    response = admin_client.get("/admin/manage_orders", query_string=query)
    assert response.status_code == 200
    assert placed["number"] in table_rows(response)


@pytest.mark.parametrize("query", [{"status": "Shipped"}, {"status": "Cancelled"}, {"q": "bob"}])
def test_dashboard_filters_drop_the_order(admin_client, placed, query):
    response = admin_client.get("/admin/manage_orders", query_string=query)
    assert placed["number"] not in table_rows(response)


# -- JSON API ------------------------------------------------------------------------------


def status_of(app, order_id):
    with app.app_context():
        order = db.session.get(Order, order_id)
        return order.status, order.cancelled, order.actual_delivery_date


def test_order_updates_shape(admin_client, placed):
    response = admin_client.get("/admin/api/order-updates?minutes=5")
    assert response.status_code == 200
    body = response.get_json()
    assert body["success"] is True
    assert set(body["stats"]) == STAT_KEYS
    assert body["stats"]["total_orders"] == body["stats"]["pending_count"] == 1
    assert body["timestamp"].endswith("Z")
    [row] = body["recent_orders"]
    assert set(row) == SUMMARY_KEYS
    assert (row["id"], row["username"], row["status"]) == (placed["id"], "alice", "Pending")


def test_order_updates_default_and_max_minutes(admin_client, placed):
    for query in ("", "?minutes=1", "?minutes=1440"):
        assert admin_client.get(f"/admin/api/order-updates{query}").status_code == 200


def assert_minutes_refused(client, minutes):
    response = client.get("/admin/api/order-updates", query_string={"minutes": minutes})
    assert_json_error(response, 400, "minutes")


@pytest.mark.parametrize("minutes", ["0", "-1", "1441", "2000"])
def test_order_updates_rejects_out_of_range_minutes(admin_client, minutes):
    assert_minutes_refused(admin_client, minutes)


@pytest.mark.parametrize("minutes", ["abc", "1.5", "²", "١٢"])
def test_order_updates_rejects_non_integer_minutes(admin_client, minutes):
    assert_minutes_refused(admin_client, minutes)


def test_a_blank_minutes_is_the_default_like_every_blank_argument(admin_client):
    assert admin_client.get("/admin/api/order-updates?minutes=").status_code == 200


def test_details_has_exactly_the_contract_keys(admin_client, placed):
    response = admin_client.get(f"/admin/api/order/{placed['id']}/details")
    assert response.status_code == 200
    body = response.get_json()
    order = body["order"]
    assert body["success"] is True
    assert set(order) >= CONTRACT_KEYS
    assert set(order) == DETAIL_KEYS  # + documented extras: updated_at, next_status
    assert set(order["customer"]) == {"id", "username", "email"}
    assert [set(item) for item in order["items"]] == [ITEM_KEYS]
    assert order["order_number"] == placed["number"]
    assert order["items"][0]["quantity"] == 2 and order["total_credits"] == 12


def test_details_of_unknown_order_is_404(admin_client, shop):
    assert_json_error(admin_client.get("/admin/api/order/999/details"), 404, "not found")


def set_status(client, order_id, status):
    return client.post(f"/admin/api/order/{order_id}/status", json={"status": status})


def test_status_moves_to_the_next_step(app, admin_client, placed):
    for status in ("Shipped", "Out for Delivery", "Delivered"):
        response = set_status(admin_client, placed["id"], status)
        assert response.status_code == 200
        assert response.get_json()["order"]["status"] == status
    status, cancelled, delivered_at = status_of(app, placed["id"])
    assert (status, cancelled) == ("Delivered", False) and delivered_at is not None
    assert response.get_json()["order"]["actual_delivery"].endswith("Z")
    stats = db_state(app)["stats"]
    assert (stats["delivered_count"], stats["pending_count"]) == (1, 0)


@pytest.mark.parametrize(
    "done, attempt",
    [((), "Out for Delivery"), ((), "Delivered"), (("Shipped",), "Pending"), ((), "Pending")],
)
def test_illegal_status_moves_are_409(app, admin_client, placed, done, attempt):
    for status in done:
        set_status(admin_client, placed["id"], status)
    before = db_state(app)
    response = set_status(admin_client, placed["id"], attempt)
    assert_json_error(response, 409, "next allowed")
    assert db_state(app) == before


def test_unknown_status_is_422(app, admin_client, placed):
    before = db_state(app)
    assert_json_error(set_status(admin_client, placed["id"], "Teleported"), 422, "unknown status")
    assert db_state(app) == before


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"json": {}},
        {"json": {"status": 3}},
        {"json": ["Shipped"]},
        {"data": "{oops", "content_type": "application/json"},
        {"data": {"status": "Shipped"}},
    ],
    ids=["no-body", "no-status", "number", "array", "malformed", "form"],
)
@pytest.mark.one_database
def test_status_needs_a_json_body(app, admin_client, placed, kwargs):
    before = db_state(app)
    assert_json_error(admin_client.post(f"/admin/api/order/{placed['id']}/status", **kwargs), 400)
    assert db_state(app) == before


def test_status_of_unknown_order_is_404(admin_client, shop):
    assert_json_error(set_status(admin_client, 999, "Shipped"), 404)


def cancel(client, order_id, reason="Customer asked"):
    return client.post(f"/admin/api/order/{order_id}/cancel", json={"reason": reason})


def test_cancel_refunds_and_is_final(app, admin_client, placed, shop):
    assert db_state(app, shop.alice.id)["credits"][shop.alice.id] == 1000 - 12
    response = cancel(admin_client, placed["id"], "Out of stock")
    assert response.status_code == 200
    order = response.get_json()["order"]
    assert (order["cancelled"], order["cancellation_reason"]) == (True, "Out of stock")
    state = db_state(app, shop.alice.id)
    assert state["credits"][shop.alice.id] == 1000
    assert (state["stats"]["cancelled_count"], state["stats"]["pending_count"]) == (1, 0)
    assert_json_error(cancel(admin_client, placed["id"]), 409, "already cancelled")
    assert_json_error(set_status(admin_client, placed["id"], "Shipped"), 409, "cancelled")
    assert db_state(app, shop.alice.id) == state


@pytest.mark.parametrize("reason", ["", "   ", None, 12, "r" * 301], ids=repr)
def test_cancel_needs_a_sane_reason(app, admin_client, placed, shop, reason):
    before = db_state(app, shop.alice.id)
    assert_json_error(cancel(admin_client, placed["id"], reason), 422, "reason")
    assert db_state(app, shop.alice.id) == before


def test_cancel_after_delivery_is_409(app, admin_client, placed, shop):
    for status in ("Shipped", "Out for Delivery", "Delivered"):
        set_status(admin_client, placed["id"], status)
    before = db_state(app, shop.alice.id)
    assert_json_error(cancel(admin_client, placed["id"]), 409, "delivered")
    assert db_state(app, shop.alice.id) == before


def test_cancel_malformed_and_unknown(admin_client, placed):
    assert_json_error(admin_client.post(f"/admin/api/order/{placed['id']}/cancel", data="x"), 400)
    assert_json_error(cancel(admin_client, 999), 404)

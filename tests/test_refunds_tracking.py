"""Partial refunds (up to what remains; two refunds racing for the remainder: one wins) and
tracking numbers on the move to Shipped (validated, in the details, the CSV and live on the
customer's page)."""

import csv
import io
import threading

import pytest

from app.extensions import db
from app.models import Product, User
from app.services import revenue
from tests.factories import make_order
from tests.helpers import assert_json_error, data, db_state, logged_in_client, message
from tests.security_helpers import snapshot


@pytest.fixture
def order30(app, shop):
    """A 30-credit order of alice's (5 × 6): ``{"id", "number"}``."""
    with app.app_context():
        product = db.session.get(Product, shop.products[0].id)
        order = make_order(db.session.get(User, shop.alice.id), [(product, 5)])
        return {"id": order.id, "number": order.order_number}


def refund(client, order_id, credits, reason="Damaged jar"):
    body = {"credits": credits, "reason": reason}
    return client.post(f"/admin/api/order/{order_id}/refund", json=body)


def balance(app, user_id):
    return db_state(app, user_id)["credits"][user_id]


def revenue_total(app):
    with app.app_context():
        total = sum(r for _, r, _, _ in revenue.between(0, 2**40))
        db.session.remove()
    return total


def test_a_partial_refund_moves_balance_revenue_and_the_order(app, admin_client, order30, shop):
    before_balance, before_revenue = balance(app, shop.alice.id), revenue_total(app)
    response = refund(admin_client, order30["id"], 12)
    assert response.status_code == 200
    body = response.get_json()
    assert body["order"]["refunded_credits"] == 12
    assert body["order"]["refundable_credits"] == 18
    assert body["activity"]["kind"] == "refunded"
    assert (body["activity"]["credits"], body["activity"]["note"]) == (12, "Damaged jar")
    assert balance(app, shop.alice.id) == before_balance + 12
    assert revenue_total(app) == before_revenue - 12


def test_more_than_remains_is_409_naming_the_remainder(app, admin_client, order30):
    assert refund(admin_client, order30["id"], 20).status_code == 200
    before = snapshot(app)
    body = assert_json_error(refund(admin_client, order30["id"], 11), 409, "only 10 of 30")
    assert body["refundable_credits"] == 10
    assert snapshot(app) == before
    assert refund(admin_client, order30["id"], 10).status_code == 200
    assert_json_error(refund(admin_client, order30["id"], 1), 409)


def test_a_cancel_after_a_partial_refund_refunds_only_the_rest(app, admin_client, order30, shop):
    start, start_revenue = balance(app, shop.alice.id), revenue_total(app)
    refund(admin_client, order30["id"], 10)
    cancelled = admin_client.post(
        f"/admin/api/order/{order30['id']}/cancel", json={"reason": "Lost in transit"}
    )
    assert cancelled.status_code == 200
    assert balance(app, shop.alice.id) == start + 30  # 10 refunded, then the other 20
    assert revenue_total(app) == start_revenue - 30
    assert_json_error(refund(admin_client, order30["id"], 1), 409, "cancelled")
    undo = admin_client.post(
        f"/admin/api/order/{order30['id']}/undo",
        json={"activity_id": cancelled.get_json()["activity"]["id"]},
    )
    assert undo.status_code == 200
    assert balance(app, shop.alice.id) == start + 10  # only the cancel's 20 charged back
    assert revenue_total(app) == start_revenue - 10


@pytest.mark.parametrize(
    "body, status",
    [
        (None, 400),
        ({"credits": "5", "reason": "x"}, 400),
        ({"credits": 5.0, "reason": "x"}, 400),
        ({"credits": True, "reason": "x"}, 400),
        ({"credits": 0, "reason": "x"}, 422),
        ({"credits": -3, "reason": "x"}, 422),
        ({"credits": 5}, 422),
        ({"credits": 5, "reason": "  "}, 422),
        ({"credits": 5, "reason": "x" * 301}, 422),
    ],
)
@pytest.mark.one_database
def test_bad_refunds_are_refused_with_nothing_written(app, admin_client, order30, body, status):
    before = snapshot(app)
    response = admin_client.post(f"/admin/api/order/{order30['id']}/refund", json=body)
    assert_json_error(response, status)
    assert snapshot(app) == before


def test_two_refunds_over_the_remainder_one_wins(app, shop, order30):
    """Two admins refund 20 of the same 30 credits at the same moment, 5 times over (a new
    order each time): one gets 200, the other 409, and 20 credits move, not 40."""
    first, second = logged_in_client(app, "boss"), logged_in_client(app, "boss")
    start = balance(app, shop.alice.id)
    orders = [order30["id"]]
    with app.app_context():
        product = db.session.get(Product, shop.products[0].id)
        alice = db.session.get(User, shop.alice.id)
        orders += [make_order(alice, [(product, 5)]).id for _ in range(4)]
    start = balance(app, shop.alice.id)
    for order_id in orders:
        barrier = threading.Barrier(2)
        codes = []

        def run(client, barrier=barrier, codes=codes, order_id=order_id):
            barrier.wait()
            codes.append(refund(client, order_id, 20).status_code)

        threads = [threading.Thread(target=run, args=(c,)) for c in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(codes) == [200, 409]
    assert balance(app, shop.alice.id) == start + 20 * len(orders)


def test_the_customer_sees_a_refund_live(app, open_stream, admin_client, customer_client, order30):
    stream = open_stream(customer_client, f"/orders/{order30['number']}/stream")
    first = data(stream.wait_for(message("initial")))
    refund(admin_client, order30["id"], 7)
    frame = data(stream.wait_for(message("update")))
    assert frame["refunded_credits"] == 7
    assert frame["balance"] == first["balance"] + 7
    assert frame["activity"]["kind"] == "refunded"


# -- tracking numbers -------------------------------------------------------------------------


def ship(client, order_id, **tracking):
    body = {"status": "Shipped", **tracking}
    return client.post(f"/admin/api/order/{order_id}/status", json=body)


def test_a_tracking_number_goes_with_the_move_to_shipped(
    app, open_stream, admin_client, customer_client, placed
):
    stream = open_stream(customer_client, f"/orders/{placed['number']}/stream")
    stream.wait_for(message("initial"))
    response = ship(
        admin_client, placed["id"], carrier="ups", tracking_number="1z 999 aa1 0123456784"
    )
    assert response.status_code == 200
    order = response.get_json()["order"]
    assert (order["carrier"], order["tracking_number"]) == ("UPS", "1Z999AA10123456784")
    assert order["tracking_url"] == "https://www.ups.com/track?tracknum=1Z999AA10123456784"
    assert response.get_json()["activity"]["note"] == "UPS 1Z999AA10123456784"
    frame = data(stream.wait_for(message("update")))
    assert (frame["carrier"], frame["tracking_number"]) == ("UPS", "1Z999AA10123456784")
    page = customer_client.get(f"/orders/{placed['number']}").get_data(as_text=True)
    assert "1Z999AA10123456784" in page
    rows = list(
        csv.reader(io.StringIO(admin_client.get("/admin/orders.csv").get_data(as_text=True)))
    )
    record = dict(zip(rows[0], rows[1], strict=True))
    assert (record["carrier"], record["tracking_number"]) == ("UPS", "1Z999AA10123456784")


@pytest.mark.parametrize(
    "tracking, status",
    [
        ({"carrier": 5, "tracking_number": "ABC123456"}, 400),
        ({"carrier": "UPS"}, 422),
        ({"tracking_number": "ABC123456"}, 422),
        ({"carrier": "Pigeon", "tracking_number": "ABC123456"}, 422),
        ({"carrier": "UPS", "tracking_number": "ABC123456"}, 422),  # not 1Z + 16
        ({"carrier": "DHL", "tracking_number": "12"}, 422),
        ({"carrier": "DHL", "tracking_number": "<script>alert(1)</script>"}, 422),
    ],
)
@pytest.mark.one_database
def test_bad_tracking_is_refused_with_nothing_written(app, admin_client, placed, tracking, status):
    before = snapshot(app)
    assert_json_error(ship(admin_client, placed["id"], **tracking), status)
    assert snapshot(app) == before


def test_tracking_only_goes_with_the_move_to_shipped(app, admin_client, placed):
    assert ship(admin_client, placed["id"]).status_code == 200
    before = snapshot(app)
    body = {"status": "Out for Delivery", "carrier": "DHL", "tracking_number": "JD0123456789"}
    response = admin_client.post(f"/admin/api/order/{placed['id']}/status", json=body)
    assert_json_error(response, 422, "Shipped only")
    assert snapshot(app) == before


def test_undoing_the_shipment_clears_its_tracking(admin_client, placed):
    shipped = ship(admin_client, placed["id"], carrier="DHL", tracking_number="JD0123456789")
    undo = admin_client.post(
        f"/admin/api/order/{placed['id']}/undo",
        json={"activity_id": shipped.get_json()["activity"]["id"]},
    )
    assert undo.get_json()["order"]["tracking_number"] is None

"""A customer cancels their own order while it is Pending (form post with CSRF and a
confirm box): refund, activity entry, live event; 409 once it has moved, including when an
admin's advance wins the race."""

import threading

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Order, OrderActivity, User
from app.services import Conflict
from app.services.customer_orders import CUSTOMER_REASON, cancel_own_order
from tests.factories import make_order, make_product
from tests.helpers import counts_consistent, data, db_state, logged_in_client, message, order_event
from tests.security_helpers import snapshot


@pytest.fixture
def placed(app, shop):
    """A 12-credit pickup order of alice's: ``{"id", "number"}``."""
    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        order = make_order(alice, [(make_product(credit_value=12), 1)])
        return {"id": order.id, "number": order.order_number}


def cancel(client, number, confirm=True, note=""):
    form = {"note": note}
    if confirm:
        form["confirm"] = "y"
    return client.post(f"/orders/{number}/cancel", data=form)


def advance(client, order_id, status="Shipped"):
    return client.post(f"/admin/api/order/{order_id}/status", json={"status": status})


def order_row(app, order_id):
    with app.app_context():
        order = db.session.get(Order, order_id)
        result = (order.status, order.cancelled, order.cancellation_reason)
        db.session.remove()
    return result


def test_the_page_offers_the_form_only_while_pending(admin_client, customer_client, placed):
    html = customer_client.get(f"/orders/{placed['number']}").get_data(as_text=True)
    assert "data-self-cancel" in html and 'name="confirm"' in html
    # Admins open any order page, but it is not theirs to cancel from there.
    assert "data-self-cancel" not in admin_client.get(f"/orders/{placed['number']}").get_data(
        as_text=True
    )
    advance(admin_client, placed["id"])
    html = customer_client.get(f"/orders/{placed['number']}").get_data(as_text=True)
    assert "data-self-cancel" not in html


def test_cancel_refunds_records_and_tells_the_dashboards(
    app, admin_client, customer_client, placed, shop, open_stream
):
    stream = open_stream(admin_client, "/admin/orders/stream")
    stream.wait_for(message("initial"), timeout=5)  # live from here on
    before = db_state(app, shop.alice.id)
    response = cancel(customer_client, placed["number"], note="Ordered twice")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/orders/{placed['number']}"
    assert order_row(app, placed["id"]) == ("Pending", True, f"{CUSTOMER_REASON}: Ordered twice")
    after = db_state(app, shop.alice.id)
    assert after["credits"][shop.alice.id] == before["credits"][shop.alice.id] + 12
    assert after["stats"]["cancelled_count"] == before["stats"]["cancelled_count"] + 1
    assert counts_consistent(app)
    with app.app_context():
        entry = db.session.scalar(
            sa.select(OrderActivity).where(OrderActivity.kind == "cancelled")
        )
        assert (entry.order_id, entry.actor_id) == (placed["id"], shop.alice.id)
    event = data(stream.wait_for(order_event("cancelled"), timeout=5))
    assert (event["order"]["id"], event["actor"]) == (placed["id"], "alice")
    page = customer_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "12 credits are back in your balance" in page
    assert "1000 cr" in page  # the header balance after the refund


def test_without_the_confirm_box_nothing_happens(app, customer_client, placed):
    before = snapshot(app)
    response = cancel(customer_client, placed["number"], confirm=False)
    assert response.status_code == 422
    assert "Tick the box" in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_once_moved_it_is_409(app, admin_client, customer_client, placed):
    advance(admin_client, placed["id"])
    before = snapshot(app)
    response = cancel(customer_client, placed["number"])
    assert response.status_code == 409
    assert "already Shipped" in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_twice_is_409(app, customer_client, placed):
    assert cancel(customer_client, placed["number"]).status_code == 302
    before = snapshot(app)
    assert cancel(customer_client, placed["number"]).status_code == 409
    assert snapshot(app) == before


def test_someone_elses_order_is_404(app, admin_client, other_client, placed):
    before = snapshot(app)
    assert cancel(other_client, placed["number"]).status_code == 404
    assert cancel(admin_client, placed["number"]).status_code == 404
    assert snapshot(app) == before


def test_anonymous_is_sent_to_login(app, client, placed):
    response = cancel(client, placed["number"])
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


def test_an_advance_between_read_and_write_wins(app, admin_client, placed, shop):
    """The customer's request read the order while Pending; the admin's advance commits
    before the customer's write: the row lock re-read answers 409 and writes nothing."""
    with app.app_context():
        order = db.session.get(Order, placed["id"])  # read: Pending
        alice = db.session.get(User, shop.alice.id)
        # From another thread: a request in this thread would share this app context and
        # so this session; the admin's must be a transaction of its own.
        codes = []
        admin = threading.Thread(target=lambda: codes.append(advance(admin_client, placed["id"])))
        admin.start()
        admin.join(timeout=30)
        assert [r.status_code for r in codes] == [200]
        before = snapshot(app)
        with pytest.raises(Conflict, match="changed meanwhile"):
            cancel_own_order(order, alice)
        db.session.rollback()
        db.session.remove()
    assert snapshot(app) == before
    assert order_row(app, placed["id"]) == ("Shipped", False, None)


def test_racing_an_admin_exactly_one_wins(app, shop):
    """Customer cancel and admin advance sent at the same moment, 8 times: each time
    exactly one of them succeeds and the books balance (the conditional UPDATE of the order:
    a row lock on PostgreSQL, the database lock on SQLite)."""
    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        product = make_product(credit_value=7)
        orders = [
            (o.id, o.order_number) for o in (make_order(alice, [(product, 1)]) for _ in range(8))
        ]
    customer = logged_in_client(app, "alice")
    admin = logged_in_client(app, "boss")
    outcomes = []
    for order_id, number in orders:
        barrier = threading.Barrier(2)
        codes = {}

        def run(name, call, barrier=barrier, codes=codes):
            barrier.wait()
            codes[name] = call().status_code

        threads = [
            threading.Thread(target=run, args=("cancel", lambda n=number: cancel(customer, n))),
            threading.Thread(target=run, args=("advance", lambda i=order_id: advance(admin, i))),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        status, cancelled, _ = order_row(app, order_id)
        if codes["cancel"] == 302:
            assert (codes["advance"], status, cancelled) == (409, "Pending", True)
        else:
            assert (codes["cancel"], codes["advance"]) == (409, 200)
            assert (status, cancelled) == ("Shipped", False)
        outcomes.append(codes["cancel"] == 302)
    spent = sum(7 for won in outcomes if not won)
    assert db_state(app, shop.alice.id)["credits"][shop.alice.id] == 1000 - spent
    assert counts_consistent(app)

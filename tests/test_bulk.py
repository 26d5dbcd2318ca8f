"""POST /admin/api/orders/bulk (advance or cancel up to 500 orders) and
GET /admin/api/orders/ids (the view's ids for "select all N matching")."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Order, OrderActivity, User
from app.services import bulk
from tests.factories import make_order, make_product
from tests.helpers import (
    assert_json_error,
    counts_consistent,
    data,
    db_state,
    message,
    order_event,
)
from tests.security_helpers import snapshot


@pytest.fixture
def orders(app, shop):
    """Four 10-credit pickup orders of alice's, oldest first: their ids."""
    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        product = make_product(credit_value=10)
        return [make_order(alice, [(product, 1)]).id for _ in range(4)]


def send(client, ids, action="advance", seen="Pending", **extra):
    """POST a bulk action; ``seen``: the status the page showed for every id, or a dict of
    id → status (the ``from`` the dashboard sends)."""
    shown = seen if isinstance(seen, dict) else dict.fromkeys(ids, seen)
    body = {"ids": ids, "action": action, "from": {str(i): s for i, s in shown.items()}}
    return client.post("/admin/api/orders/bulk", json={**body, **extra})


def deliver(client, order_id):
    """Advance one order from Pending to Delivered, each step as the page showed it."""
    for seen in ("Pending", "Shipped", "Out for Delivery"):
        assert send(client, [order_id], seen=seen).get_json()["succeeded"] == 1


def states(app, ids):
    with app.app_context():
        found = {o.id: (o.status, o.cancelled) for o in db.session.scalars(sa.select(Order))}
        db.session.remove()
    return [found.get(i) for i in ids]


def activity_of(app, ids):
    with app.app_context():
        rows = db.session.execute(
            sa.select(OrderActivity.order_id, OrderActivity.kind, User.username)
            .join(User, User.id == OrderActivity.actor_id)
            .where(OrderActivity.order_id.in_(ids), OrderActivity.kind != "created")
            .order_by(OrderActivity.id)
        ).all()
        db.session.remove()
    return [tuple(r) for r in rows]


def test_advance_moves_each_order_one_step(app, admin_client, orders):
    response = send(admin_client, orders[:3])
    assert response.status_code == 200
    body = response.get_json()
    assert (body["success"], body["action"], body["succeeded"], body["failed"]) == (
        True,
        "advance",
        3,
        0,
    )
    assert [r["id"] for r in body["results"]] == orders[:3]
    assert all(r["ok"] and r["order"]["status"] == "Shipped" for r in body["results"])
    assert states(app, orders) == [("Shipped", False)] * 3 + [("Pending", False)]
    assert activity_of(app, orders) == [(i, "status", "boss") for i in orders[:3]]
    assert db_state(app)["stats"]["shipped_count"] == 3
    assert counts_consistent(app)


def test_cancel_refunds_each_order_with_one_reason(app, admin_client, orders, shop):
    before = db_state(app, shop.alice.id)["credits"][shop.alice.id]
    body = send(admin_client, orders[1:3], "cancel", reason="  Out of stock ").get_json()
    assert body["succeeded"] == 2
    assert states(app, orders[1:3]) == [("Pending", True)] * 2
    assert db_state(app, shop.alice.id)["credits"][shop.alice.id] == before + 20
    with app.app_context():
        reasons = db.session.scalars(
            sa.select(Order.cancellation_reason).where(Order.id.in_(orders[1:3]))
        ).all()
    assert reasons == ["Out of stock"] * 2
    assert activity_of(app, orders) == [(i, "cancelled", "boss") for i in orders[1:3]]
    assert counts_consistent(app)


def test_each_order_has_its_own_result_and_transaction(app, admin_client, orders):
    send(admin_client, [orders[1]], "cancel", reason="Customer asked")
    deliver(admin_client, orders[2])
    ids = [orders[2], 999_999, orders[0], orders[1], orders[3]]
    seen = dict(zip(ids, ["Delivered", "Pending", "Pending", "Cancelled", "Pending"], strict=True))
    body = send(admin_client, ids, seen=seen).get_json()
    results = {r["id"]: r for r in body["results"]}
    assert [r["id"] for r in body["results"]] == [
        orders[2],
        999_999,
        orders[0],
        *orders[1:2],
        orders[3],
    ]
    assert (results[orders[2]]["status"], results[999_999]["status"]) == (409, 404)
    assert "delivered" in results[orders[2]]["error"]
    assert results[orders[1]]["status"] == 409 and "cancelled" in results[orders[1]]["error"]
    assert results[orders[0]]["ok"] and results[orders[3]]["ok"]
    assert (body["succeeded"], body["failed"]) == (2, 3)
    assert states(app, orders) == [
        ("Shipped", False),
        ("Pending", True),
        ("Delivered", False),
        ("Shipped", False),
    ]
    assert counts_consistent(app)


def test_cancel_of_a_delivered_order_is_a_409_result(app, admin_client, orders):
    deliver(admin_client, orders[0])
    seen = {orders[0]: "Delivered", orders[1]: "Pending"}
    body = send(admin_client, orders[:2], "cancel", seen=seen, reason="Too late").get_json()
    assert [r["ok"] for r in body["results"]] == [False, True]
    assert body["results"][0]["status"] == 409


def test_500_ids_are_accepted_and_501_refused(app, admin_client, orders):
    ids = orders + list(range(10_000, 10_496))
    body = send(admin_client, ids).get_json()
    assert len(body["results"]) == 500 and body["succeeded"] == 4
    assert {r["status"] for r in body["results"] if not r["ok"]} == {404}
    before = snapshot(app)
    assert_json_error(send(admin_client, ids + [20_000]), 422, "at most 500")
    assert snapshot(app) == before


ONE = {"1": "Pending"}


@pytest.mark.parametrize(
    "body, status, message",
    [
        ([1, 2], 400, "json"),
        ("advance", 400, "json"),
        ({"action": "advance"}, 400, "ids"),
        ({"ids": "1,2", "action": "advance"}, 400, "ids"),
        ({"ids": {"1": 1}, "action": "advance"}, 400, "ids"),
        ({"ids": ["1"], "action": "advance"}, 400, "ids"),
        ({"ids": [1.0], "action": "advance"}, 400, "ids"),
        ({"ids": [True], "action": "advance"}, 400, "ids"),
        ({"ids": [None], "action": "advance"}, 400, "ids"),
        ({"ids": [[1]], "action": "advance"}, 400, "ids"),
        ({"ids": [0], "action": "advance"}, 400, "ids"),
        ({"ids": [-1], "action": "advance"}, 400, "ids"),
        ({"ids": [2**31], "action": "advance"}, 400, "ids"),
        ({"ids": [2**70], "action": "advance"}, 400, "ids"),
        ({"ids": [1], "action": "ship", "from": {"1": "Pending"}}, 422, "action"),
        ({"ids": [1], "action": None}, 422, "action"),
        ({"ids": [1]}, 422, "action"),
        ({"ids": [], "action": "advance", "from": {}}, 422, "empty"),
        (
            {"ids": [1, 2, 1], "action": "advance", "from": {"1": "Pending", "2": "Pending"}},
            422,
            "more than once",
        ),
        ({"ids": [1], "action": "cancel", "from": ONE}, 422, "reason"),
        ({"ids": [1], "action": "cancel", "from": ONE, "reason": "   "}, 422, "reason"),
        ({"ids": [1], "action": "cancel", "from": ONE, "reason": 7}, 422, "reason"),
        ({"ids": [1], "action": "cancel", "from": ONE, "reason": "r" * 301}, 422, "reason"),
    ],
    ids=repr,
)
@pytest.mark.one_database
def test_bad_input_writes_nothing(app, admin_client, orders, body, status, message):
    before = snapshot(app)
    response = admin_client.post("/admin/api/orders/bulk", json=body)
    assert_json_error(response, status, message)
    assert snapshot(app) == before


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"data": "{oops", "content_type": "application/json"}, {"data": {"ids": "1"}}],
    ids=["no-body", "malformed", "form"],
)
def test_a_body_that_is_not_json_is_400(app, admin_client, orders, kwargs):
    before = snapshot(app)
    assert_json_error(admin_client.post("/admin/api/orders/bulk", **kwargs), 400)
    assert snapshot(app) == before


def test_customers_get_403_and_anonymous_401(app, client, customer_client, orders):
    before = snapshot(app)
    assert_json_error(send(customer_client, orders), 403)
    assert_json_error(send(client, orders), 401)
    assert_json_error(customer_client.get("/admin/api/orders/ids"), 403)
    assert_json_error(client.get("/admin/api/orders/ids"), 401)
    assert snapshot(app) == before


def test_dashboards_get_every_change(app, admin_client, orders, open_stream):
    stream = open_stream(admin_client, "/admin/orders/stream")
    stream.wait_for(message("initial"), timeout=5)  # live from here on
    send(admin_client, orders[:3])
    seen = set()
    while len(seen) < 3:
        frame = stream.wait_for(order_event("status"), timeout=5)
        seen.add(data(frame)["order"]["id"])
    assert seen == set(orders[:3])


def test_ids_resolve_the_current_view(app, admin_client, orders, monkeypatch):
    send(admin_client, [orders[1]])
    body = admin_client.get("/admin/api/orders/ids").get_json()
    assert body == {
        "success": True,
        "ids": orders[::-1],
        "total": 4,
        "limit": 500,
        "truncated": False,
        "seen": {
            str(orders[1]): "Shipped",
            **{str(i): "Pending" for i in orders if i != orders[1]},
        },
    }
    pending = admin_client.get("/admin/api/orders/ids?status=Pending&dir=asc").get_json()
    assert pending["ids"] == [orders[0], orders[2], orders[3]]
    monkeypatch.setattr(bulk, "MAX_IDS", 2)
    capped = admin_client.get("/admin/api/orders/ids").get_json()
    assert (capped["ids"], capped["total"], capped["truncated"]) == (orders[:1:-1], 4, True)

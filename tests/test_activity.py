"""The activity feed: rows written by the services in the order's transaction, the JSON
endpoint, and the actor carried in the live ``event: order`` frames."""

import sqlalchemy as sa

from app.extensions import db
from app.models import Order, OrderActivity, User
from app.services.status import cancel_order, change_status
from tests.factories import make_order
from tests.helpers import assert_json_error, data, order_event

URL = "/admin/api/activity"
ENTRY_KEYS = {
    "id",
    "order_id",
    "order_number",
    "kind",
    "from_status",
    "to_status",
    "note",
    "ref_id",
    "credits",
    "actor",
    "at",
}


def _place(app, username="alice", **kwargs):
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        order = make_order(user, **kwargs)
        ids = order.id, order.order_number
        db.session.remove()
    return ids


def test_admin_only(client, customer_client, shop):
    assert_json_error(client.get(URL), 401)
    assert_json_error(customer_client.get(URL), 403)


def test_created_status_and_cancel_are_recorded_newest_first(app, admin_client, shop):
    order_id, number = _place(app)
    assert admin_client.post(f"/admin/api/order/{order_id}/status", json={"status": "Shipped"})
    response = admin_client.post(
        f"/admin/api/order/{order_id}/cancel", json={"reason": "Customer <b>asked</b>"}
    )
    assert response.status_code == 200
    body = admin_client.get(URL).get_json()
    assert body["success"] is True and body["timestamp"].endswith("Z")
    entries = body["activity"]
    assert [e["kind"] for e in entries] == ["cancelled", "status", "created"]
    assert all(set(e) == ENTRY_KEYS for e in entries)
    cancelled, moved, created = entries
    assert created["actor"] == "alice" and created["from_status"] is None
    assert created["to_status"] == "Pending" and created["order_number"] == number
    assert moved["actor"] == shop.admin.username
    assert (moved["from_status"], moved["to_status"]) == ("Pending", "Shipped")
    assert cancelled["note"] == "Customer <b>asked</b>"
    assert cancelled["actor"] == shop.admin.username


def test_limit_bounds(app, admin_client, shop):
    for _ in range(3):
        _place(app)
    assert len(admin_client.get(URL + "?limit=2").get_json()["activity"]) == 2
    for bad in ("0", "201", "-1", "abc", "1.5"):
        assert_json_error(admin_client.get(f"{URL}?limit={bad}"), 400, "limit")


def test_refused_move_writes_no_activity(app, admin_client, shop):
    order_id, _ = _place(app)
    response = admin_client.post(
        f"/admin/api/order/{order_id}/status", json={"status": "Delivered"}
    )
    assert_json_error(response, 409)
    with app.app_context():
        kinds = db.session.scalars(sa.select(OrderActivity.kind)).all()
    assert kinds == ["created"]


def test_rolled_back_change_leaves_no_row(app, shop):
    order_id, _ = _place(app)
    with app.app_context():
        order = db.session.get(Order, order_id)
        change_status(order, "Shipped")
        cancel_order(order, "changed my mind")
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(OrderActivity.id))) == 1
        db.session.remove()


def test_system_changes_have_no_actor(app, admin_client, shop):
    order_id, _ = _place(app)
    with app.app_context():
        change_status(db.session.get(Order, order_id), "Shipped")
        db.session.commit()
    entry = admin_client.get(URL + "?limit=1").get_json()["activity"][0]
    assert entry["actor"] is None and entry["to_status"] == "Shipped"


def test_order_event_carries_actor_and_activity(app, admin_client, shop, open_stream):
    stream = open_stream(admin_client, "/admin/orders/stream")
    order_id, _ = _place(app)
    created = data(stream.wait_for(order_event("created"), timeout=3))
    assert created["actor"] == "alice"
    assert created["activity"]["kind"] == "created"
    assert {"kind", "order"} <= set(created)
    admin_client.post(f"/admin/api/order/{order_id}/status", json={"status": "Shipped"})
    moved = data(stream.wait_for(order_event("status"), timeout=3))
    assert moved["actor"] == shop.admin.username
    assert moved["order"]["status"] == "Shipped"
    assert set(moved["activity"]) == ENTRY_KEYS
    assert moved["activity"]["from_status"] == "Pending"

"""Safe actions through the API: a move names the status it saw (``from``) and a
stale one is refused naming who changed the order and when; every advance and cancel can be
undone by its admin for ``UNDO_SECONDS`` as a change of its own (counts, revenue buckets and
balances exact); the details carry the order's history. Refusals write nothing."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Order, OrderActivity, User
from app.services.counts import read_stats
from app.services.revenue import true_buckets
from tests.factories import make_order, make_user
from tests.helpers import assert_json_error, counts_consistent, db_state, logged_in_client


@pytest.fixture
def other_admin(app, shop):
    """A second admin, ``carla``, logged in on a client of her own."""
    with app.app_context():
        make_user("admin", credits=0, username="carla")
    return logged_in_client(app, "carla")


def move(client, order_id, status, seen=None):
    body = {"status": status} if seen is None else {"status": status, "from": seen}
    return client.post(f"/admin/api/order/{order_id}/status", json=body)


def cancel(client, order_id, reason="Out of stock", seen=None):
    body = {"reason": reason} if seen is None else {"reason": reason, "from": seen}
    return client.post(f"/admin/api/order/{order_id}/cancel", json=body)


def undo(client, order_id, activity_id):
    return client.post(f"/admin/api/order/{order_id}/undo", json={"activity_id": activity_id})


def books(app, *user_ids) -> dict:
    """``db_state`` plus the revenue buckets and the number of activity entries."""
    state = db_state(app, *user_ids)
    with app.app_context():
        state["buckets"] = true_buckets()
        state["stored_buckets"] = {
            s: (r, n, c)
            for s, r, n, c in db.session.execute(
                sa.text(
                    "SELECT bucket_start, SUM(revenue), SUM(orders), SUM(cancelled) "
                    "FROM revenue_buckets GROUP BY bucket_start"
                )
            )
            if r or n
        }
        state["activity"] = db.session.scalar(sa.select(sa.func.count(OrderActivity.id)))
        db.session.remove()
    return state


def exact(app) -> bool:
    """Counters and revenue buckets equal what a recount of ``orders`` says."""
    state = books(app)
    return counts_consistent(app) and state["buckets"] == state["stored_buckets"]


# -- from ----------------------------------------------------------------------------------


def test_a_move_with_the_status_it_saw_goes_through(app, admin_client, placed):
    response = move(admin_client, placed["id"], "Shipped", seen="Pending")
    assert response.status_code == 200
    body = response.get_json()
    assert body["order"]["status"] == "Shipped"
    assert body["activity"]["kind"] == "status" and body["activity"]["to_status"] == "Shipped"
    assert body["activity"]["actor"] == "boss" and body["undo_seconds"] == 10


def test_a_stale_click_names_who_moved_it_and_when(app, admin_client, other_admin, placed, shop):
    assert move(other_admin, placed["id"], "Shipped", seen="Pending").status_code == 200
    before = books(app, shop.alice.id)
    # boss's page still showed Pending and "Advance to Shipped".
    body = assert_json_error(move(admin_client, placed["id"], "Shipped", seen="Pending"), 409)
    assert body["error"].startswith(f"{placed['number']} changed meanwhile: carla moved it")
    assert "to Shipped" in body["error"] and " s ago" in body["error"]
    assert (
        body["order"]["status"] == "Shipped" and body["order"]["next_status"] == "Out for Delivery"
    )
    assert body["changed"]["actor"] == "carla" and body["changed"]["to_status"] == "Shipped"
    assert books(app, shop.alice.id) == before


def test_a_stale_cancel_names_who_cancelled(app, admin_client, other_admin, placed):
    assert cancel(other_admin, placed["id"], "Customer called").status_code == 200
    body = assert_json_error(move(admin_client, placed["id"], "Shipped", seen="Pending"), 409)
    assert "carla cancelled it" in body["error"] and body["order"]["cancelled"] is True
    body = assert_json_error(cancel(admin_client, placed["id"], seen="Pending"), 409)
    assert "carla cancelled it" in body["error"]


@pytest.mark.parametrize(
    "body,status",
    [
        ({"status": "Shipped", "from": 3}, 400),
        ({"status": "Shipped", "from": ["Pending"]}, 400),
        ({"status": "Shipped", "from": "Teleported"}, 422),
        ({"status": "Shipped", "from": "Shipped"}, 409),  # not what the order is
    ],
)
def test_bad_from_is_refused_and_writes_nothing(app, admin_client, placed, shop, body, status):
    before = books(app, shop.alice.id)
    response = admin_client.post(f"/admin/api/order/{placed['id']}/status", json=body)
    assert_json_error(response, status)
    response = admin_client.post(
        f"/admin/api/order/{placed['id']}/cancel", json={**body, "reason": "x"}
    )
    assert_json_error(response, status)
    assert books(app, shop.alice.id) == before


# -- undo ----------------------------------------------------------------------------------


def test_undo_of_an_advance_is_its_own_change(app, admin_client, placed, shop):
    before = books(app, shop.alice.id)
    moved = move(admin_client, placed["id"], "Shipped", seen="Pending").get_json()
    response = undo(admin_client, placed["id"], moved["activity"]["id"])
    assert response.status_code == 200
    body = response.get_json()
    assert body["order"]["status"] == "Pending" and body["order"]["next_status"] == "Shipped"
    entry = body["activity"]
    assert (entry["kind"], entry["from_status"], entry["to_status"], entry["actor"]) == (
        "status_undone",
        "Shipped",
        "Pending",
        "boss",
    )
    after = books(app, shop.alice.id)
    assert after["stats"]["version"] == before["stats"]["version"] + 2
    assert {k: v for k, v in after["stats"].items() if k != "version"} == {
        k: v for k, v in before["stats"].items() if k != "version"
    }
    assert after["credits"] == before["credits"] and after["activity"] == before["activity"] + 2
    assert exact(app)
    # It can be moved again, and the history lists all three changes.
    assert move(admin_client, placed["id"], "Shipped", seen="Pending").status_code == 200
    history = admin_client.get(f"/admin/api/order/{placed['id']}/details").get_json()
    kinds = [(e["kind"], e["to_status"]) for e in history["history"]]
    assert kinds == [
        ("created", "Pending"),
        ("status", "Shipped"),
        ("status_undone", "Pending"),
        ("status", "Shipped"),
    ]


def test_undo_of_delivered_clears_the_delivery_time(app, admin_client, placed):
    for seen, status in (("Pending", "Shipped"), ("Shipped", "Out for Delivery")):
        move(admin_client, placed["id"], status, seen=seen)
    done = move(admin_client, placed["id"], "Delivered", seen="Out for Delivery").get_json()
    assert done["order"]["actual_delivery"]
    body = undo(admin_client, placed["id"], done["activity"]["id"]).get_json()
    assert (
        body["order"]["status"] == "Out for Delivery" and body["order"]["actual_delivery"] is None
    )
    assert exact(app)


def test_undo_of_a_cancel_charges_again_and_restores_revenue(app, admin_client, placed, shop):
    before = books(app, shop.alice.id)
    cancelled = cancel(admin_client, placed["id"], seen="Pending").get_json()
    assert (
        books(app, shop.alice.id)["credits"][shop.alice.id]
        == before["credits"][shop.alice.id] + 12
    )
    body = undo(admin_client, placed["id"], cancelled["activity"]["id"]).get_json()
    assert body["success"] is True and body["activity"]["kind"] == "cancel_undone"
    assert body["order"]["cancelled"] is False and body["order"]["cancellation_reason"] is None
    assert body["order"]["status"] == "Pending"
    after = books(app, shop.alice.id)
    assert after["credits"] == before["credits"]
    assert after["buckets"] == before["buckets"] == after["stored_buckets"]
    assert after["stats"]["cancelled_count"] == before["stats"]["cancelled_count"]
    assert after["stats"]["pending_count"] == before["stats"]["pending_count"]
    assert exact(app)


def test_undo_of_a_cancel_refuses_when_the_refund_is_spent(app, admin_client, placed, shop):
    cancelled = cancel(admin_client, placed["id"], seen="Pending").get_json()
    with app.app_context():  # alice spends everything but 5 credits
        db.session.execute(sa.update(User).where(User.id == shop.alice.id).values(credits=5))
        db.session.commit()
    before = books(app, shop.alice.id)
    body = assert_json_error(undo(admin_client, placed["id"], cancelled["activity"]["id"]), 409)
    assert "costs 12 credits and alice has 5 left" in body["error"]
    assert books(app, shop.alice.id) == before
    with app.app_context():
        assert db.session.get(Order, placed["id"]).cancelled is True


def test_undo_refusals_write_nothing(app, admin_client, other_admin, placed, shop):
    moved = move(admin_client, placed["id"], "Shipped", seen="Pending").get_json()
    entry_id = moved["activity"]["id"]
    with app.app_context():
        created = db.session.scalar(
            sa.select(OrderActivity.id).where(
                OrderActivity.order_id == placed["id"], OrderActivity.kind == "created"
            )
        )
        other = make_order(db.session.get(User, shop.bob.id))
        other_id = other.id
    before = books(app, shop.alice.id)
    url = f"/admin/api/order/{placed['id']}/undo"
    for body in (None, [], {}, {"activity_id": "1"}, {"activity_id": True}, {"activity_id": 1.5}):
        assert_json_error(admin_client.post(url, json=body), 400)
    assert_json_error(admin_client.post(url, data="{", content_type="application/json"), 400)
    assert_json_error(admin_client.post(url, json={"activity_id": 2**31}), 400)
    assert_json_error(undo(admin_client, 999999, entry_id), 404)
    assert_json_error(undo(admin_client, other_id, entry_id), 404, "no change")
    assert_json_error(undo(admin_client, placed["id"], 99999), 404)
    assert_json_error(undo(admin_client, placed["id"], created), 422, "only a status move")
    assert_json_error(undo(other_admin, placed["id"], entry_id), 403, "only the admin")
    assert books(app, shop.alice.id) == before
    # Another admin moved it on: the undo would no longer revert exactly that change.
    move(other_admin, placed["id"], "Out for Delivery", seen="Shipped")
    before = books(app, shop.alice.id)
    body = assert_json_error(undo(admin_client, placed["id"], entry_id), 409, "changed since")
    assert "carla moved it to Out for Delivery" in body["error"]
    assert books(app, shop.alice.id) == before


def test_undo_is_refused_after_the_window_and_twice(app, admin_client, placed, shop):
    moved = move(admin_client, placed["id"], "Shipped", seen="Pending").get_json()
    entry_id = moved["activity"]["id"]
    assert undo(admin_client, placed["id"], entry_id).status_code == 200
    assert_json_error(undo(admin_client, placed["id"], entry_id), 409, "changed since")
    moved = move(admin_client, placed["id"], "Shipped", seen="Pending").get_json()
    with app.app_context():  # 16 s ago: past UNDO_SECONDS (10) and the 5 s allowance
        entry = db.session.get(OrderActivity, moved["activity"]["id"])
        entry.at -= timedelta(seconds=16)
        db.session.commit()
    before = books(app, shop.alice.id)
    assert_json_error(undo(admin_client, placed["id"], moved["activity"]["id"]), 409, "too late")
    assert books(app, shop.alice.id) == before


def test_reconcile_finds_no_drift_after_undos(app, admin_client, placed, runner):
    moved = move(admin_client, placed["id"], "Shipped", seen="Pending").get_json()
    undo(admin_client, placed["id"], moved["activity"]["id"])
    cancelled = cancel(admin_client, placed["id"], seen="Pending").get_json()
    undo(admin_client, placed["id"], cancelled["activity"]["id"])
    result = runner.invoke(args=["reconcile-counts"])
    assert "no drift" in result.output, result.output
    with app.app_context():
        assert read_stats()["pending_count"] >= 1


def test_the_order_page_shows_the_steps_an_undo_left(app, admin_client, customer_client, placed):
    moved = move(admin_client, placed["id"], "Shipped", seen="Pending").get_json()
    undo(admin_client, placed["id"], moved["activity"]["id"])
    page = customer_client.get(f"/orders/{placed['number']}").get_data(as_text=True)
    assert "Current status: Pending." in page
    shipped_step = page.split('data-step="Shipped"', 1)[1].split("</li>", 1)[0]
    assert "<time" not in shipped_step

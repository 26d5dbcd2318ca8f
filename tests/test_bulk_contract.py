"""A bulk action means what the page showed (docs/design.md §5a): every request names each
order's status as seen (``from``), an order that moved meanwhile is refused on its own,
named with who moved it and when, and left untouched, and the rest move exactly as one
click each would (one version and one activity entry per order; counters, stock, refunds
and revenue exact). Bad ``from`` input is a 400/422 that writes nothing."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Order, OrderActivity, Product, User
from app.models.timestamps import utcnow
from app.services import bulk
from app.services.revenue import true_buckets
from tests.factories import make_order, make_product, make_user
from tests.helpers import assert_json_error, counts_consistent, db_state, logged_in_client
from tests.security_helpers import snapshot


@pytest.fixture
def orders(app, shop):
    """Four 10-credit pickup orders of alice's, oldest first: their ids."""
    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        product = make_product(credit_value=10)
        return [make_order(alice, [(product, 1)]).id for _ in range(4)]


@pytest.fixture
def maria(app, shop):
    """A second admin, ``maria``, on a client of her own."""
    with app.app_context():
        make_user("admin", credits=0, username="maria")
    return logged_in_client(app, "maria")


def bulk_post(client, ids, action="advance", seen="Pending", **extra):
    shown = seen if isinstance(seen, dict) else dict.fromkeys(ids, seen)
    body = {"ids": ids, "action": action, "from": {str(i): s for i, s in shown.items()}}
    return client.post("/admin/api/orders/bulk", json={**body, **extra})


def state_of(app, ids):
    with app.app_context():
        rows = db.session.execute(
            sa.select(Order.id, Order.status, Order.cancelled).where(Order.id.in_(ids))
        ).all()
        db.session.remove()
    found = {i: (s, c) for i, s, c in rows}
    return [found[i] for i in ids]


def entries(app, order_id):
    """``[(kind, to_status, actor)]`` of the order's moves, oldest first."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(OrderActivity.kind, OrderActivity.to_status, User.username)
            .outerjoin(User, User.id == OrderActivity.actor_id)
            .where(OrderActivity.order_id == order_id, OrderActivity.kind != "created")
            .order_by(OrderActivity.id)
        ).all()
        db.session.remove()
    return [tuple(r) for r in rows]


def buckets_exact(app) -> bool:
    with app.app_context():
        stored = {
            s: (r, n, c)
            for s, r, n, c in db.session.execute(
                sa.text(
                    "SELECT bucket_start, SUM(revenue), SUM(orders), SUM(cancelled) "
                    "FROM revenue_buckets GROUP BY bucket_start"
                )
            )
            if r or n
        }
        truth = {s: v for s, v in true_buckets().items() if v != (0, 0, 0)}
        db.session.remove()
    return stored == truth


def test_an_order_moved_meanwhile_is_refused_named_and_untouched(app, admin_client, maria, orders):
    moved = maria.post(
        f"/admin/api/order/{orders[1]}/status", json={"status": "Shipped", "from": "Pending"}
    )
    assert moved.status_code == 200
    # boss's page still showed all three as Pending.
    body = bulk_post(admin_client, orders[:3]).get_json()
    assert (body["succeeded"], body["failed"]) == (2, 1)
    first, refused, third = body["results"]
    assert first["ok"] and third["ok"] and first["order"]["status"] == "Shipped"
    assert refused["id"] == orders[1] and not refused["ok"] and refused["status"] == 409
    assert "changed meanwhile: maria moved it to Shipped" in refused["error"]
    assert refused["error"].endswith("s ago.")
    assert refused["changed"]["actor"] == "maria"
    assert refused["changed"]["to_status"] == "Shipped"
    assert refused["order"]["status"] == "Shipped" and refused["order"]["id"] == orders[1]
    # maria's order went no further; the others moved once, by boss.
    assert state_of(app, orders) == [
        ("Shipped", False),
        ("Shipped", False),
        ("Shipped", False),
        ("Pending", False),
    ]
    assert entries(app, orders[1]) == [("status", "Shipped", "maria")]
    assert entries(app, orders[0]) == [("status", "Shipped", "boss")]
    assert counts_consistent(app)


def test_a_cancel_never_touches_an_order_cancelled_or_moved_meanwhile(
    app, admin_client, maria, orders, shop
):
    maria.post(f"/admin/api/order/{orders[0]}/cancel", json={"reason": "Duplicate"})
    maria.post(f"/admin/api/order/{orders[2]}/status", json={"status": "Shipped"})
    before = db_state(app, shop.alice.id)["credits"][shop.alice.id]
    body = bulk_post(admin_client, orders[:3], "cancel", reason="Out of stock").get_json()
    results = {r["id"]: r for r in body["results"]}
    assert "maria cancelled it" in results[orders[0]]["error"]
    assert "maria moved it to Shipped" in results[orders[2]]["error"]
    assert results[orders[1]]["ok"] and results[orders[1]]["order"]["cancelled"]
    assert state_of(app, orders[:3]) == [("Pending", True), ("Pending", True), ("Shipped", False)]
    with app.app_context():
        reason = db.session.get(Order, orders[0]).cancellation_reason
    assert reason == "Duplicate"
    # One refund by this request: orders[1]'s 10 credits.
    assert db_state(app, shop.alice.id)["credits"][shop.alice.id] == before + 10
    assert counts_consistent(app) and buckets_exact(app)


def test_seen_cancelled_is_not_stale_but_cannot_move(app, admin_client, orders):
    bulk_post(admin_client, [orders[0]], "cancel", reason="Customer asked")
    body = bulk_post(admin_client, orders[:2], seen={orders[0]: "Cancelled", orders[1]: "Pending"})
    refused, done = body.get_json()["results"]
    assert refused["status"] == 409 and "is cancelled and cannot move" in refused["error"]
    assert "changed" not in refused
    assert done["ok"]


def test_each_order_gets_its_own_version_and_entry(app, admin_client, orders):
    with app.app_context():
        from app.services.counts import read_version

        start = read_version()
        db.session.remove()
    body = bulk_post(admin_client, orders).get_json()
    assert body["succeeded"] == 4
    with app.app_context():
        rows = db.session.execute(
            sa.select(OrderActivity.order_id, OrderActivity.version, OrderActivity.from_status)
            .where(OrderActivity.kind == "status")
            .order_by(OrderActivity.version)
        ).all()
        end = read_version()
        db.session.remove()
    assert [tuple(r) for r in rows] == [
        (order_id, start + i + 1, "Pending") for i, order_id in enumerate(orders)
    ]
    assert end == start + 4


def test_a_bulk_cancel_puts_stock_back_and_refunds_each_customer(app, admin_client, shop):
    with app.app_context():
        bread = Product(name="Rye", category="Bakery", credit_value=5, stock=10)
        jam = make_product(credit_value=7)  # stock not tracked
        db.session.add(bread)
        db.session.commit()
        alice, bob = db.session.get(User, shop.alice.id), db.session.get(User, shop.bob.id)
        ids = [
            make_order(alice, [(bread, 2), (jam, 1)]).id,
            make_order(bob, [(bread, 3)]).id,
            make_order(alice, [(bread, 1)]).id,
        ]
        bread_id = bread.id
        db.session.remove()
    # A partial refund first: a cancel gives back only what is left.
    refund = admin_client.post(
        f"/admin/api/order/{ids[0]}/refund", json={"credits": 4, "reason": "Squashed"}
    )
    assert refund.status_code == 200, refund.get_json()
    before = db_state(app, shop.alice.id, shop.bob.id)["credits"]
    body = bulk_post(admin_client, ids, "cancel", reason="Oven broke").get_json()
    assert body["succeeded"] == 3
    after = db_state(app, shop.alice.id, shop.bob.id)["credits"]
    assert after[shop.alice.id] - before[shop.alice.id] == (17 - 4) + 5
    assert after[shop.bob.id] - before[shop.bob.id] == 15
    with app.app_context():
        assert db.session.get(Product, bread_id).stock == 10
        db.session.remove()
    assert counts_consistent(app) and buckets_exact(app)


def test_an_order_changed_between_read_and_write_is_refused(app, ctx, shop, monkeypatch):
    """Where rows are not locked (SQLite), another writer may commit between the read and
    the conditional UPDATE: that order is refused with who moved it, the rest move."""
    alice = db.session.get(User, shop.alice.id)
    ids = [make_order(alice).id for _ in range(2)]
    maria = make_user("admin", credits=0, username="maria")
    boss = db.session.get(User, shop.admin.id)
    real = bulk.lock_orders

    def read_then_someone_writes(order_ids, with_items=False):
        loaded = real(order_ids, with_items)
        db.session.execute(
            sa.update(Order)
            .where(Order.id == ids[1])
            .values(status="Shipped", updated_at=utcnow())
        )
        db.session.execute(
            sa.insert(OrderActivity).values(
                order_id=ids[1],
                actor_id=maria.id,
                kind="status",
                from_status="Pending",
                to_status="Shipped",
                at=utcnow(),
                version=10**6,  # the other writer committed after the read
            )
        )
        return loaded

    monkeypatch.setattr(bulk, "lock_orders", read_then_someone_writes)
    request = bulk.parse_bulk(
        {"ids": ids, "action": "advance", "from": {str(i): "Pending" for i in ids}}
    )
    done, refused = bulk.run_bulk(request, boss)
    assert done["ok"] and done["order"]["status"] == "Shipped"
    assert refused["status"] == 409 and "maria moved it to Shipped" in refused["error"]
    assert refused["order"]["status"] == "Shipped"
    db.session.commit()
    assert db.session.get(Order, ids[1]).status == "Shipped"


def test_a_tag_needs_no_from_and_ignores_the_status(app, admin_client, maria, orders):
    maria.post(f"/admin/api/order/{orders[0]}/status", json={"status": "Shipped"})
    plain = admin_client.post(
        "/admin/api/orders/bulk", json={"ids": orders[:2], "action": "tag", "add": ["vip"]}
    )
    assert plain.get_json()["succeeded"] == 2
    shown = bulk_post(admin_client, orders[:2], "tag", add=["gift"]).get_json()
    assert shown["succeeded"] == 2  # orders[0] moved, but a tag does not depend on it


ONE = {"ids": [1], "action": "advance"}


@pytest.mark.parametrize(
    "body, status, message",
    [
        (ONE, 422, '"from" is required'),
        ({**ONE, "action": "cancel", "reason": "r"}, 422, '"from" is required'),
        ({**ONE, "from": None}, 422, '"from" is required'),
        ({**ONE, "from": ["Pending"]}, 400, '"from" must be an object'),
        ({**ONE, "from": "Pending"}, 400, '"from" must be an object'),
        ({**ONE, "from": {"1": 1}}, 400, '"from" must be an object'),
        ({**ONE, "from": {"1": None}}, 400, '"from" must be an object'),
        ({**ONE, "from": {"1": ["Pending"]}}, 400, '"from" must be an object'),
        ({**ONE, "from": {"one": "Pending"}}, 400, '"from" must be an object'),
        ({**ONE, "from": {"01": "Pending"}}, 400, '"from" must be an object'),
        ({**ONE, "from": {"-1": "Pending"}}, 400, '"from" must be an object'),
        ({**ONE, "from": {" 1": "Pending"}}, 400, '"from" must be an object'),
        ({**ONE, "from": {"1": "pending"}}, 422, "unknown status"),
        ({**ONE, "from": {"1": "Lost"}}, 422, "unknown status"),
        ({**ONE, "from": {}}, 422, "missing: 1"),
        ({**ONE, "from": {"1": "Pending", "2": "Pending"}}, 422, "not selected: 2"),
        ({"ids": [1, 2], "action": "advance", "from": {"2": "Shipped"}}, 422, "missing: 1"),
        ({**ONE, "action": "tag", "add": ["vip"], "from": "x"}, 400, '"from" must be an'),
        ({**ONE, "action": "tag", "add": ["vip"], "from": {"2": "Pending"}}, 422, "only those"),
    ],
    ids=repr,
)
@pytest.mark.one_database
def test_bad_from_is_refused_and_writes_nothing(app, admin_client, orders, body, status, message):
    body = {**body, "ids": [orders[0] if i == 1 else orders[1] for i in body["ids"]]}
    if isinstance(body.get("from"), dict):
        rename = {"1": str(orders[0]), "2": str(orders[1])}
        body["from"] = {rename.get(k, k): v for k, v in body["from"].items()}
        message = message.replace(": 1", f": {orders[0]}").replace(": 2", f": {orders[1]}")
    before = snapshot(app)
    response = admin_client.post("/admin/api/orders/bulk", json=body)
    assert_json_error(response, status, message)
    assert snapshot(app) == before


def version_now(app) -> int:
    with app.app_context():
        from app.services.counts import read_version

        version = read_version()
        db.session.remove()
    return version


def test_select_all_is_pinned_to_the_version_its_count_was_shown_at(
    app, admin_client, maria, orders, shop
):
    maria.post(f"/admin/api/order/{orders[3]}/status", json={"status": "Shipped"})
    shown_at = version_now(app)  # the page counts 3 Pending and 1 Shipped here
    # Then: two orders placed, a Pending one shipped, the Shipped one moved on (it leaves
    # the Shipped view).
    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        placed = [make_order(alice).id for _ in range(2)]
        db.session.remove()
    maria.post(f"/admin/api/order/{orders[0]}/status", json={"status": "Shipped"})
    maria.post(f"/admin/api/order/{orders[3]}/status", json={"status": "Out for Delivery"})

    pending = admin_client.get(f"/admin/api/orders/ids?status=Pending&version={shown_at}")
    body = pending.get_json()
    assert (body["total"], body["truncated"]) == (3, False)
    assert body["ids"] == orders[2::-1]  # newest first; none of the two placed since
    # orders[0] was Pending when counted: that is what the page showed, so a bulk sends it
    # and the server refuses it naming maria.
    assert body["seen"] == {str(i): "Pending" for i in orders[:3]}
    shipped = admin_client.get(f"/admin/api/orders/ids?status=Shipped&version={shown_at}")
    assert shipped.get_json()["ids"] == [orders[3]]  # not orders[0], shipped since
    everything = admin_client.get(f"/admin/api/orders/ids?version={shown_at}").get_json()
    assert everything["ids"] == orders[::-1] and everything["total"] == 4
    assert everything["seen"][str(orders[3])] == "Shipped"
    now = admin_client.get("/admin/api/orders/ids?status=Pending").get_json()
    assert now["ids"] == [*placed[::-1], orders[2], orders[1]] and now["total"] == 4

    answer = bulk_post(
        admin_client, body["ids"], seen={int(k): v for k, v in body["seen"].items()}
    )
    results = {r["id"]: r for r in answer.get_json()["results"]}
    assert "maria moved it to Shipped" in results[orders[0]]["error"]
    assert results[orders[1]]["ok"] and results[orders[2]]["ok"]
    assert state_of(app, placed) == [("Pending", False)] * 2  # never selected, never moved


def test_a_cancel_and_its_undo_after_the_count_are_read_back(app, admin_client, orders):
    shown_at = version_now(app)
    cancelled = bulk_post(admin_client, [orders[1]], "cancel", reason="Mistake").get_json()
    assert cancelled["succeeded"] == 1
    body = admin_client.get(f"/admin/api/orders/ids?status=Cancelled&version={shown_at}")
    assert body.get_json()["ids"] == []
    later = version_now(app)
    with app.app_context():
        entry = db.session.scalar(
            sa.select(OrderActivity.id).where(
                OrderActivity.order_id == orders[1], OrderActivity.kind == "cancelled"
            )
        )
        db.session.remove()
    undone = admin_client.post(f"/admin/api/order/{orders[1]}/undo", json={"activity_id": entry})
    assert undone.status_code == 200, undone.get_json()
    body = admin_client.get(f"/admin/api/orders/ids?status=Cancelled&version={later}").get_json()
    assert body["ids"] == [orders[1]] and body["seen"] == {str(orders[1]): "Cancelled"}


@pytest.mark.parametrize("version", ["-1", "x", "1.5", str(10**18)])
def test_a_bad_version_is_400(app, admin_client, orders, version):
    assert_json_error(admin_client.get(f"/admin/api/orders/ids?version={version}"), 400, "version")


def test_a_page_too_far_behind_must_reload(app, admin_client, orders, monkeypatch):
    from app.services import pinned_ids

    monkeypatch.setattr(pinned_ids, "MAX_BEHIND", 2)
    assert_json_error(admin_client.get("/admin/api/orders/ids?version=0"), 409, "reload")
    assert admin_client.get("/admin/api/orders/ids?version=3").status_code == 200

"""Service rules: numbering, credits, validation, status moves, cancel, counts, idempotency."""

import re
from datetime import datetime

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Order, User
from app.services import Conflict, Invalid, NotFound, counts, shop_time
from app.services.counts import read_stats, reconcile, true_counts
from app.services.orders import CheckoutRequest, checkout, parse_checkout, place_order
from app.services.status import cancel_order, change_status
from tests.factories import make_order, make_product, make_user
from tests.helpers import counts_consistent, db_state

ORDER_NUMBER = re.compile(r"^ORD-(\d{8})-(\d{5})$")


@pytest.fixture
def buyer(ctx):
    return make_user(credits=100)


@pytest.fixture
def bread(ctx):
    return make_product("Bread", credit_value=7)


def pickup(product, quantity=1):
    return parse_checkout([{"product_id": product.id, "quantity": quantity}], "pickup", None)


def stored_counts() -> dict[str, int]:
    """Every counter, its shards summed (``order_counts`` holds up to ``SHARDS`` rows each)."""
    return dict.fromkeys(counts.ROW_NAMES, 0) | counts.stored_counts()


# -- order numbers and credits -------------------------------------------------------------


def test_order_numbers_follow_the_pattern_and_increase(buyer, bread):
    orders = [make_order(buyer, [(bread, 1)]) for _ in range(3)]
    numbers = [order.order_number for order in orders]
    # Each number carries its own order's shop-local day (a run may straddle midnight).
    days = [shop_time.today(order.date_ordered).strftime("%Y%m%d") for order in orders]
    parsed = [ORDER_NUMBER.match(n) for n in numbers]
    assert all(parsed), numbers
    assert [m.group(1) for m in parsed] == days
    sequence = [int(m.group(2)) for m in parsed]
    assert sequence == sorted(sequence) and len(set(numbers)) == 3
    assert sequence[1:] == [sequence[0] + 1, sequence[0] + 2]


def test_order_numbers_carry_the_order_day_and_its_id(buyer, bread):
    first = make_order(buyer, [(bread, 1)], now=datetime(2024, 3, 1, 23, 59))
    second = make_order(buyer, [(bread, 1)], now=datetime(2024, 3, 2, 0, 1))
    assert first.order_number == f"ORD-20240301-{first.id:05d}"
    assert second.order_number == f"ORD-20240302-{second.id:05d}"
    assert not first.order_number.startswith("TMP-")


def test_place_order_charges_exactly_and_records_prices(buyer, bread):
    tea = make_product("Tea", credit_value=3)
    order = make_order(buyer, [(bread, 2), (tea, 5)], "home delivery", "  1 Main St  ")
    assert order.total_credits == 2 * 7 + 5 * 3
    assert db.session.get(User, buyer.id).credits == 100 - 29
    assert order.status == "Pending" and order.delivery_address == "1 Main St"
    assert [(i.product_id, i.quantity, i.credit_value) for i in order.items] == sorted(
        [(bread.id, 2, 7), (tea.id, 5, 3)]
    )
    assert order.estimated_delivery_date > order.date_ordered


def test_repeated_product_lines_add_up(buyer, bread):
    request = parse_checkout(
        [{"product_id": bread.id, "quantity": 2}, {"product_id": bread.id, "quantity": 3}],
        "pickup",
        None,
    )
    assert request.lines == {bread.id: 5}


def test_insufficient_credits_is_invalid_and_writes_nothing(app, buyer, bread):
    before = db_state(app, buyer.id)
    with pytest.raises(Invalid, match="Not enough credits"):
        place_order(buyer, pickup(bread, 15))  # 105 > 100
    db.session.rollback()
    assert db_state(app, buyer.id) == before


def test_exact_balance_can_be_spent(buyer):
    item = make_product(credit_value=25)
    make_order(buyer, [(item, 4)])
    assert db.session.get(User, buyer.id).credits == 0


def test_unknown_or_withdrawn_product_is_not_found(app, buyer, bread):
    gone = make_product(active=False)
    before = db_state(app, buyer.id)
    for items in (
        [{"product_id": 999_999, "quantity": 1}],
        [{"product_id": gone.id, "quantity": 1}],
    ):
        with pytest.raises(NotFound):
            place_order(buyer, parse_checkout(items, "pickup", None))
        db.session.rollback()
    assert db_state(app, buyer.id) == before


# -- checkout validation -------------------------------------------------------------------


@pytest.mark.parametrize("quantity", [0, -1, 100, 10**30, True, False, "2", 1.0, None], ids=repr)
def test_bad_quantities_are_invalid(ctx, quantity):
    with pytest.raises(Invalid):
        parse_checkout([{"product_id": 1, "quantity": quantity}], "pickup", None)


@pytest.mark.parametrize(
    "items",
    [
        [],
        None,
        "1,2",
        {"product_id": 1, "quantity": 1},
        [1],
        [{"quantity": 1}],
        [{"product_id": "1", "quantity": 1}],
    ],
    ids=repr,
)
def test_bad_item_lists_are_invalid(ctx, items):
    with pytest.raises(Invalid):
        parse_checkout(items, "pickup", None)


def test_more_than_fifty_lines_is_invalid(ctx):
    items = [{"product_id": i, "quantity": 1} for i in range(1, 52)]
    with pytest.raises(Invalid, match="50"):
        parse_checkout(items, "pickup", None)
    assert len(parse_checkout(items[:50], "pickup", None).lines) == 50


@pytest.mark.parametrize("address", [None, "", "   \n", 42, "x" * 301], ids=repr)
def test_home_delivery_needs_a_sane_address(ctx, address):
    with pytest.raises(Invalid):
        parse_checkout([{"product_id": 1, "quantity": 1}], "home delivery", address)


def test_address_of_300_characters_is_accepted(ctx):
    request = parse_checkout([{"product_id": 1, "quantity": 1}], "home delivery", "x" * 300)
    assert request.delivery_address == "x" * 300


def test_pickup_needs_no_address_and_stores_none(buyer, bread):
    request = parse_checkout([{"product_id": bread.id, "quantity": 1}], "pickup", "ignored")
    assert request.delivery_address is None
    order = place_order(buyer, request)
    db.session.commit()
    assert db.session.get(Order, order.id).delivery_address is None


@pytest.mark.parametrize("method", ["drone", "", None, "Pickup", "home_delivery"], ids=repr)
def test_unknown_delivery_method_is_invalid(ctx, method):
    with pytest.raises(Invalid, match="delivery_method"):
        parse_checkout([{"product_id": 1, "quantity": 1}], method, "1 Main St")


# -- status moves --------------------------------------------------------------------------


@pytest.fixture
def order(buyer, bread):
    return make_order(buyer, [(bread, 2)])


def move(order, *statuses):
    for status in statuses:
        change_status(order, status)
        db.session.commit()


def test_status_moves_forward_one_step_at_a_time(order):
    move(order, "Shipped", "Out for Delivery")
    assert order.actual_delivery_date is None
    move(order, "Delivered")
    assert order.status == "Delivered"
    assert order.actual_delivery_date is not None
    assert order.next_status is None


@pytest.mark.parametrize(
    "done, attempt",
    [
        ((), "Out for Delivery"),  # skip
        ((), "Delivered"),  # skip two
        ((), "Pending"),  # repeat
        (("Shipped",), "Shipped"),  # repeat
        (("Shipped",), "Pending"),  # backwards
        (("Shipped", "Out for Delivery", "Delivered"), "Delivered"),
        (("Shipped", "Out for Delivery", "Delivered"), "Shipped"),
    ],
)
def test_illegal_moves_conflict_and_change_nothing(app, order, done, attempt):
    move(order, *done)
    before = db_state(app)
    with pytest.raises(Conflict) as info:
        change_status(order, attempt)
    db.session.rollback()
    assert info.value.status_code == 409
    assert db_state(app) == before
    assert db.session.get(Order, order.id).status == (done[-1] if done else "Pending")


@pytest.mark.parametrize("status", ["Lost", "", "pending", None])
def test_unknown_status_is_invalid(order, status):
    with pytest.raises(Invalid) as info:
        change_status(order, status)
    assert info.value.status_code == 422


def test_cancelled_order_stops_moving(order):
    cancel_order(order, "Customer asked")
    db.session.commit()
    with pytest.raises(Conflict):
        change_status(order, "Shipped")


# -- cancel --------------------------------------------------------------------------------


def test_cancel_refunds_credits_and_records_reason(buyer, order):
    assert db.session.get(User, buyer.id).credits == 100 - 14
    cancel_order(order, "  Out of stock  ")
    db.session.commit()
    assert db.session.get(User, buyer.id).credits == 100
    assert order.cancelled and order.cancellation_reason == "Out of stock"
    assert order.status == "Pending"


@pytest.mark.parametrize("reason", [None, "", "   ", 7, "r" * 301], ids=repr)
def test_cancel_needs_a_reason(app, buyer, order, reason):
    before = db_state(app, buyer.id)
    with pytest.raises(Invalid):
        cancel_order(order, reason)
    db.session.rollback()
    assert db_state(app, buyer.id) == before


def test_cancel_after_delivery_conflicts(app, buyer, order):
    move(order, "Shipped", "Out for Delivery", "Delivered")
    before = db_state(app, buyer.id)
    with pytest.raises(Conflict, match="delivered"):
        cancel_order(order, "Too late")
    db.session.rollback()
    assert db_state(app, buyer.id) == before


def test_cancel_twice_conflicts_and_refunds_once(buyer, order):
    move(order, "Shipped")
    cancel_order(order, "first")
    db.session.commit()
    with pytest.raises(Conflict, match="already cancelled"):
        cancel_order(order, "second")
    db.session.rollback()
    assert db.session.get(User, buyer.id).credits == 100
    assert db.session.get(Order, order.id).cancellation_reason == "first"


# -- counts --------------------------------------------------------------------------------


def test_counts_match_the_truth_after_a_mix_of_operations(app, bread):
    rich = make_user(credits=10_000)
    orders = [make_order(rich, [(bread, 1)]) for _ in range(8)]
    move(orders[0], "Shipped", "Out for Delivery", "Delivered")
    move(orders[1], "Shipped", "Out for Delivery")
    move(orders[2], "Shipped")
    move(orders[3], "Shipped")
    cancel_order(orders[3], "changed mind")
    cancel_order(orders[4], "changed mind")
    db.session.commit()
    with pytest.raises(Conflict):
        change_status(orders[5], "Delivered")
    db.session.rollback()
    assert stored_counts() == true_counts()
    stats = read_stats()
    assert (
        stats["total_orders"],
        stats["pending_count"],
        stats["shipped_count"],
        stats["out_for_delivery"],
        stats["delivered_count"],
        stats["cancelled_count"],
    ) == (8, 3, 1, 1, 1, 2)
    assert counts_consistent(app)


def test_version_rises_with_every_write(buyer, bread):
    versions = [read_stats()["version"]]
    order = make_order(buyer, [(bread, 1)])
    versions.append(read_stats()["version"])
    move(order, "Shipped")
    versions.append(read_stats()["version"])
    cancel_order(order, "r")
    db.session.commit()
    versions.append(read_stats()["version"])
    assert versions == sorted(set(versions)) and len(versions) == 4


def test_reconcile_reports_and_fixes_drift(buyer, bread):
    make_order(buyer, [(bread, 1)])
    make_order(buyer, [(bread, 1)])
    assert reconcile() == {}
    db.session.commit()
    # Drift on whichever shards the orders wrote to: Pending 7 in all, total 0.
    db.session.execute(sa.text("UPDATE order_counts SET count = 0 WHERE name = 'Pending'"))
    db.session.execute(
        sa.text(
            "INSERT INTO order_counts (name, shard, count) VALUES ('Pending', 0, 7) "
            "ON CONFLICT (name, shard) DO UPDATE SET count = 7"
        )
    )
    db.session.execute(sa.text("UPDATE order_counts SET count = 0 WHERE name = 'total'"))
    db.session.commit()
    version = read_stats()["version"]
    drift = reconcile()
    db.session.commit()
    assert drift == {"Pending": (7, 2), "total": (0, 2)}
    assert stored_counts() == true_counts()
    assert read_stats()["version"] > version  # open streams resync
    assert reconcile() == {}


# -- idempotency ---------------------------------------------------------------------------


def test_same_key_returns_the_same_order_and_charges_once(buyer, bread):
    first, created = checkout(buyer, pickup(bread, 2), "key-1")
    db.session.commit()
    again, created_again = checkout(buyer, pickup(bread, 2), "key-1")
    db.session.commit()
    assert (created, created_again) == (True, False)
    assert again.id == first.id
    assert db.session.get(User, buyer.id).credits == 100 - 14
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 1
    assert read_stats()["total_orders"] == 1


def test_same_key_for_a_different_request_is_invalid(app, buyer, bread):
    checkout(buyer, pickup(bread, 2), "key-1")
    db.session.commit()
    before = db_state(app, buyer.id)
    with pytest.raises(Invalid, match="different order"):
        checkout(buyer, pickup(bread, 3), "key-1")
    db.session.rollback()
    assert db_state(app, buyer.id) == before


def test_keys_belong_to_one_customer(buyer, bread):
    other = make_user(credits=100)
    mine, _ = checkout(buyer, pickup(bread), "shared")
    theirs, created = checkout(other, pickup(bread), "shared")
    db.session.commit()
    assert created and theirs.id != mine.id


def test_fingerprint_ignores_line_order():
    a = CheckoutRequest({1: 2, 3: 4}, "pickup", None)
    b = CheckoutRequest({3: 4, 1: 2}, "pickup", None)
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != CheckoutRequest({1: 2, 3: 5}, "pickup", None).fingerprint()

"""Checkouts at the same time on the real PostgreSQL server (threads, one connection each):
the last item goes to exactly one of two buyers, and after many concurrent checkouts the
sharded counters, the revenue buckets, the stock and the balances are exact and the
versions are one per order, in commit order. PostgreSQL only: its row locks are what these
exercise (SQLite takes one lock for the whole database)."""

import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db
from app.models import Order, OrderActivity, OrderCount, OrderItem, Product, User
from app.services import ServiceError, counts, revenue
from app.services.orders import parse_checkout, place_order
from tests.factories import make_product, make_user
from tests.helpers import counts_consistent, wait_until
from tests.services_required import create_postgres_database, drop_postgres_database

pytestmark = pytest.mark.services


@pytest.fixture
def pg_app():
    """An app on a PostgreSQL database of its own (version row in place)."""
    name = f"orderpulse_concurrency_{uuid.uuid4().hex[:12]}"
    url = create_postgres_database(name)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, ORDER_WRITE_CONCURRENCY=8)
    with app.app_context():
        db.create_all()
        counts.ensure_rows()
        db.session.commit()
    yield app, url
    app.extensions["realtime"].stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    drop_postgres_database(name)


def checkout_in_thread(app, user_id: int, lines: dict[int, int], before_commit=None):
    """Place one order in its own app context and session (its own connection), commit it
    (after ``before_commit()``, when given) and return ``("ok", order id)``, or roll back
    and return ``("refused", message)``."""
    with app.app_context():
        try:
            user = db.session.get(User, user_id)
            items = [{"product_id": pid, "quantity": qty} for pid, qty in lines.items()]
            order = place_order(user, parse_checkout(items, "pickup", None))
            if before_commit is not None:
                before_commit()
            db.session.commit()
            return "ok", order.id
        except ServiceError as exc:
            db.session.rollback()
            return "refused", exc.message
        finally:
            db.session.remove()


def lock_waiters(url: str) -> int:
    """Backends of this database waiting for a row lock."""
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()[0]


def test_two_buyers_of_the_last_item_one_wins(pg_app):
    app, url = pg_app
    with app.app_context():
        last = make_product("Last loaf", credit_value=7)
        last.stock = 1
        db.session.commit()
        product_id = last.id
        first, second = make_user(credits=100).id, make_user(credits=100).id
    holding, release = threading.Event(), threading.Event()

    def hold_until_released():
        holding.set()  # the winner has taken the item and holds the row until COMMIT
        assert release.wait(30)

    with ThreadPoolExecutor(2) as pool:
        winner = pool.submit(checkout_in_thread, app, first, {product_id: 1}, hold_until_released)
        assert holding.wait(30)
        loser = pool.submit(checkout_in_thread, app, second, {product_id: 1})
        # The second checkout is queued on the product's row lock, not refused from a stale
        # read: it decides only once the first one commits.
        wait_until(
            lambda: lock_waiters(url) >= 1, what="the second checkout waiting on the row lock"
        )
        release.set()
        assert winner.result(30)[0] == "ok"
        assert loser.result(30) == ("refused", "Last loaf is out of stock")
    with app.app_context():
        assert db.session.get(Product, product_id).stock == 0
        assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 1
        assert db.session.get(User, first).credits == 93
        assert db.session.get(User, second).credits == 100
        db.session.remove()
    assert counts_consistent(app)


def test_many_concurrent_checkouts_leave_every_total_exact(pg_app):
    app, _ = pg_app
    start_stock = {0: 40, 1: 25, 2: None}  # the third product's stock is not tracked
    with app.app_context():
        products = []
        for i, units in start_stock.items():
            product = make_product(f"Product {i}", credit_value=3 + i)
            product.stock = units
            products.append(product)
        db.session.commit()
        ids = [p.id for p in products]
        prices = {p.id: p.credit_value for p in products}
        buyers = [make_user(credits=150).id for _ in range(8)]
        version_before = counts.read_version()
    rng = random.Random(11)
    plans = [
        (buyer, {pid: rng.randint(1, 3) for pid in rng.sample(ids, rng.randint(1, 3))})
        for buyer in buyers
        for _ in range(12)
    ]
    go = threading.Barrier(8)

    def run(batch):
        go.wait(30)  # every thread starts at once
        return [(buyer, lines, checkout_in_thread(app, buyer, lines)) for buyer, lines in batch]

    with ThreadPoolExecutor(8) as pool:
        results = [r for batch in pool.map(run, [plans[i::8] for i in range(8)]) for r in batch]
    placed = [(buyer, lines) for buyer, lines, (outcome, _) in results if outcome == "ok"]
    refused = [message for _, _, (outcome, message) in results if outcome == "refused"]
    assert placed, "some checkouts went through"
    assert refused, "the tracked stock ran out (the plans ask for more than there is)"
    assert all("left of" in m or "out of stock" in m or "Not enough" in m for m in refused)

    with app.app_context():
        taken = dict.fromkeys(ids, 0)
        spent = dict.fromkeys(buyers, 0)
        for buyer, lines in placed:
            for pid, qty in lines.items():
                taken[pid] += qty
                spent[buyer] += prices[pid] * qty
        for pid, units in zip(ids, start_stock.values(), strict=True):
            stock = db.session.get(Product, pid).stock
            assert stock == (None if units is None else units - taken[pid])
            assert stock is None or stock >= 0
        for buyer in buyers:
            assert db.session.get(User, buyer).credits == 150 - spent[buyer]
        item_units = dict(
            db.session.execute(
                sa.select(OrderItem.product_id, sa.func.sum(OrderItem.quantity)).group_by(
                    OrderItem.product_id
                )
            ).all()
        )
        assert item_units == {pid: n for pid, n in taken.items() if n}
        stats = counts.read_stats()
        assert stats["total_orders"] == stats["pending_count"] == len(placed)
        assert revenue.reconcile() == {}, "revenue buckets equal a recount"
        assert sum(bucket[1] for bucket in revenue.window()) == sum(spent.values())
        # One version per order, none lost or repeated: the version row orders commits.
        versions = db.session.scalars(
            sa.select(OrderActivity.version).order_by(OrderActivity.version)
        ).all()
        assert versions == list(range(version_before + 1, version_before + len(placed) + 1))
        assert counts.read_version() == version_before + len(placed)
        shards = db.session.scalars(sa.select(sa.distinct(OrderCount.shard))).all()
        assert len(shards) > 1, "concurrent writers spread over several counter shards"
        db.session.remove()
    assert counts_consistent(app)


def test_a_short_balance_under_concurrency_never_goes_negative(pg_app):
    app, _ = pg_app
    with app.app_context():
        product_id = make_product("Jam", credit_value=10).id
        buyer = make_user(credits=55).id
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(
            pool.map(lambda _: checkout_in_thread(app, buyer, {product_id: 1}), range(8))
        )
    assert sorted(o for o, _ in outcomes) == ["ok"] * 5 + ["refused"] * 3
    with app.app_context():
        assert db.session.get(User, buyer).credits == 5
        db.session.remove()
    assert counts_consistent(app)

"""Prepare a benchmark database: migrate, one admin (and ``--admins`` more), one rich
customer, a few products, and optionally many past orders by fast bulk insert (``--orders``),
many customers with one order each (``--shoppers``), and signed-in session cookies made
without a login each (``--cookies``: a login costs a password hash, 10,000 of them minutes).

Usage: ``DATABASE_URL=... python bench/prepare.py --orders 1000000``
"""

import argparse
import json
import random
import secrets
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import ORDER_STATUSES, Order, Product, User, UserSession  # noqa: E402
from app.models.timestamps import utcnow  # noqa: E402
from app.services import accounts, revenue  # noqa: E402
from app.services.counts import reconcile  # noqa: E402

ADMIN = ("benchadmin", "bench-admin-pass")
CUSTOMER = ("benchbuyer", "bench-buyer-pass")
SHOPPER = "shopper"  # --shoppers: shopper1..N, each with the order ORD-TRACK-<n>
# What the harness's clients present: a session is bound to them (strong protection).
USER_AGENT, CLIENT_ADDRESS = "orderpulse-bench/1", "127.0.0.1"


def bulk_orders(count: int, user_id: int, batch: int = 20_000) -> None:
    """Insert ``count`` past orders with plain multi-row INSERTs (no items: they only feed
    the counters); the caller then reconciles ``order_counts`` and the revenue buckets."""
    rng = random.Random(7)
    now = utcnow()
    table = Order.__table__
    for start in range(0, count, batch):
        rows = []
        for i in range(start, min(count, start + batch)):
            when = now - timedelta(days=60) + timedelta(seconds=i * 5184000 / max(count, 1))
            rows.append(
                {
                    "order_number": f"ORD-BULK-{i:08d}",
                    "status": rng.choice(ORDER_STATUSES),
                    "user_id": user_id,
                    "delivery_method": "pickup",
                    "delivery_address": None,
                    "date_ordered": when,
                    "updated_at": when,
                    "total_credits": 10,
                    "cancelled": rng.random() < 0.03,
                }
            )
        db.session.execute(sa.insert(table), rows)
        db.session.commit()


def bulk_items(first_product_id: int) -> None:
    """Give every bulk order one or two items (the CSV export reads them), with two
    INSERT ... SELECT statements: quantity 1..3 of one of the five bench products, and a
    second line on every other order."""
    for offset, where in ((0, ""), (2, " AND id % 2 = 0")):
        db.session.execute(
            sa.text(
                "INSERT INTO order_items (order_id, product_id, quantity, credit_value) "
                f"SELECT id, :first + (id + {offset}) % 5, 1 + id % 3, 10 FROM orders "
                f"WHERE order_number LIKE 'ORD-BULK-%'{where}"
            ),
            {"first": first_product_id},
        )
    db.session.commit()


def bulk_shoppers(count: int, batch: int = 5_000) -> None:
    """``count`` customers ``shopper1..N`` (one password hash shared by all: hashing each
    would take minutes) with one Pending order each, ``ORD-TRACK-<n>``."""
    template = accounts.create_user(f"{SHOPPER}0", f"{SHOPPER}0@example.com", CUSTOMER[1])
    db.session.flush()
    now = utcnow()
    for start in range(1, count + 1, batch):
        names = [f"{SHOPPER}{i}" for i in range(start, min(count, start + batch - 1) + 1)]
        users = [
            {
                "username": n,
                "username_canonical": n,
                "email": f"{n}@example.com",
                "password_hash": template.password_hash,
                "role": "customer",
                "credits": 10**6,
                "active": True,
                "created_at": now,
            }
            for n in names
        ]
        db.session.execute(sa.insert(User.__table__), users)
        query = sa.select(User.username, User.id).where(User.username.in_(names))
        ids = dict(db.session.execute(query).all())
        orders = [
            {
                "order_number": f"ORD-TRACK-{n[len(SHOPPER) :]}",
                "status": "Pending",
                "user_id": ids[n],
                "delivery_method": "pickup",
                "delivery_address": None,
                "date_ordered": now,
                "updated_at": now,
                "total_credits": 10,
                "cancelled": False,
            }
            for n in names
        ]
        db.session.execute(sa.insert(Order.__table__), orders)
        db.session.commit()


def forge_cookies(app, spec: str) -> list[dict]:
    """Signed-in session cookies without a login each: ``admin:N`` (N sessions of the bench
    admin) or ``shoppers:N`` (one session each for shopper1..N). Each is a real session
    record and the cookie a login would set, bound to the harness's address and user
    agent. Returns ``[{"cookie": "session=...", "order_number", "order_id"}]`` (the
    shopper's order; ``None`` for the admin)."""
    from app.security import session_identifier

    who, _, count = spec.partition(":")
    count = int(count)
    order_ids: dict = {}
    if who == "admin":
        admin_id = db.session.scalar(sa.select(User.id).where(User.username == ADMIN[0]))
        owners = [(admin_id, None)] * count
    else:
        names = [f"{SHOPPER}{i}" for i in range(1, count + 1)]
        query = sa.select(User.username, User.id).where(User.username.like(f"{SHOPPER}%"))
        ids = dict(db.session.execute(query).all())
        owners = [(ids[n], f"ORD-TRACK-{n[len(SHOPPER) :]}") for n in names]
        query = sa.select(Order.order_number, Order.id)
        order_ids = dict(
            db.session.execute(query.where(Order.order_number.like("ORD-TRACK-%"))).all()
        )
    now = utcnow()
    records, made = [], []
    environ = {"REMOTE_ADDR": CLIENT_ADDRESS}
    with app.test_request_context("/", environ_base=environ, headers={"User-Agent": USER_AGENT}):
        identifier = session_identifier()
        signer = app.session_interface.get_signing_serializer(app)
        name = app.config["SESSION_COOKIE_NAME"]
        for user_id, order_number in owners:
            session_id = secrets.token_urlsafe(32)
            records.append(
                {
                    "id": session_id,
                    "user_id": user_id,
                    "created_at": now,
                    "last_seen_at": now,
                    "user_agent": USER_AGENT,
                    "ip": CLIENT_ADDRESS,
                }
            )
            value = signer.dumps(
                {"_user_id": f"{user_id}:{session_id}", "_fresh": False, "_id": identifier}
            )
            order = {"order_number": order_number, "order_id": order_ids.get(order_number)}
            made.append({"cookie": f"{name}={value}", **order})
    for start in range(0, len(records), 5_000):
        db.session.execute(sa.insert(UserSession.__table__), records[start : start + 5_000])
    db.session.commit()
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=0, help="bulk past orders to insert")
    parser.add_argument("--customers", type=int, default=0, help="extra customers buyer1..N")
    parser.add_argument("--items", action="store_true", help="give the bulk orders items")
    parser.add_argument("--admins", type=int, default=0, help="extra admins benchadmin1..N")
    parser.add_argument("--shoppers", type=int, default=0, help="shopper1..N, an order each")
    parser.add_argument("--cookies", default=None, help="admin:N or shoppers:N sessions")
    parser.add_argument("--cookies-out", default=None, help="where --cookies writes JSON")
    args = parser.parse_args()
    app = create_app("development")
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
        if db.session.scalar(sa.select(User).where(User.username == ADMIN[0])) is None:
            accounts.create_user(ADMIN[0], "benchadmin@example.com", ADMIN[1], role="admin")
            accounts.create_user(CUSTOMER[0], "buyer@example.com", CUSTOMER[1], credits=10**9)
            db.session.add_all(
                Product(name=f"Bench product {i}", category="Bench", credit_value=5 + i)
                for i in range(5)
            )
            db.session.commit()
        for i in range(1, args.admins + 1):
            name = f"{ADMIN[0]}{i}"
            if db.session.scalar(sa.select(User).where(User.username == name)) is None:
                accounts.create_user(name, f"{name}@example.com", ADMIN[1], role="admin")
        for i in range(1, args.customers + 1):
            name = f"buyer{i}"
            if db.session.scalar(sa.select(User).where(User.username == name)) is None:
                accounts.create_user(name, f"{name}@example.com", CUSTOMER[1], credits=10**9)
        db.session.commit()
        buyer = db.session.scalar(sa.select(User).where(User.username == CUSTOMER[0]))
        if args.orders:
            started = time.perf_counter()
            bulk_orders(args.orders, buyer.id)
            if args.items:
                bulk_items(db.session.scalar(sa.select(sa.func.min(Product.id))))
            reconcile()
            revenue.reconcile()
            db.session.commit()
            if db.engine.dialect.name == "postgresql":
                # Planner statistics for the new rows, as autovacuum would gather in time.
                with db.engine.connect() as conn:
                    conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                        sa.text("VACUUM ANALYZE")
                    )
            print(f"inserted {args.orders} orders in {time.perf_counter() - started:.1f}s")
        if (
            args.shoppers
            and db.session.scalar(sa.select(User.id).where(User.username == f"{SHOPPER}0")) is None
        ):
            started = time.perf_counter()
            bulk_shoppers(args.shoppers)
            reconcile()
            revenue.reconcile()
            db.session.commit()
            print(f"inserted {args.shoppers} shoppers in {time.perf_counter() - started:.1f}s")
        if args.cookies:
            made = forge_cookies(app, args.cookies)
            Path(args.cookies_out).write_text(json.dumps(made))
            print(f"made {len(made)} session cookies ({args.cookies})")
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Order))
        print(f"database ready: {total} orders")


if __name__ == "__main__":
    main()

"""What one search of the orders table costs on PostgreSQL with a million orders, whatever
the text: the dashboard's page request (the plan, the first 25 rows, the count) and the
"select all matching" request (the plan, 500 ids, the count), for texts that match
nothing, a few orders or nearly all of them, LIKE wildcards (literal: docs/admin-tools.md's
search rule) and 100 characters of junk.

Usage (one command; prepares the database the first time, ~2 minutes):
``python bench/search_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1/orderpulse_search``

The data: 20,000 customers, 300 products, 1,000,000 orders over a year with 1-3 items each
(about 2 million lines). Each request runs ``--runs`` times after a warm-up; the figures
are the median and the slowest, in milliseconds.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.services.demo import CUSTOMERS  # noqa: E402
from app.services.order_query import OrderFilter, matching_ids, search_orders  # noqa: E402

# The demo shop's customers (the first 14), so the bench searches the names a shop has.
NAMES = CUSTOMERS[:14]
ADJECTIVES = [
    "Organic",
    "Smoked",
    "Sourdough",
    "Wild",
    "Dark",
    "Fresh",
    "Spiced",
    "Roasted",
    "Salted",
    "Golden",
]
NOUNS = [
    "rye bread",
    "green tea",
    "honey",
    "olive oil",
    "coffee beans",
    "chocolate",
    "croissants",
    "granola",
    "salmon",
    "cheddar",
    "basmati rice",
    "oat milk",
    "apples",
    "tomatoes",
    "lentils",
    "pasta",
    "jam",
    "butter",
    "yoghurt",
    "walnuts",
    "almonds",
    "candle",
    "tea towels",
    "soap",
    "dish brush",
    "hamper",
    "gift box",
    "espresso",
    "muesli",
    "bagels",
]

PREPARE = [
    """INSERT INTO users (username, username_canonical, email, password_hash, role, credits,
       active, created_at)
       SELECT n, n, n || '@example.com', 'x', 'customer', 1000, true, now()
       FROM (SELECT (ARRAY[{names}])[1 + i % {name_count}] || i AS n
             FROM generate_series(1, 20000) i) s""",
    """INSERT INTO products (name, category, description, credit_value, active)
       SELECT (ARRAY[{adjectives}])[1 + i % 10] || ' ' || (ARRAY[{nouns}])[1 + i / 10],
              'Bench', '', 5 + i % 40, true
       FROM generate_series(0, 299) i""",
    """INSERT INTO orders (order_number, status, user_id, delivery_method, date_ordered,
       updated_at, total_credits, cancelled)
       SELECT 'ORD-' || to_char(d, 'YYYYMMDD') || '-' || lpad(i::text, 7, '0'),
              (ARRAY['Pending','Shipped','Out for Delivery','Delivered'])[1 + (i * 7) % 4],
              (SELECT min(id) FROM users) + ((i::bigint * 7919) % 20000)::int, 'pickup',
              d, d, 10 + i % 90, i % 33 = 0
       FROM (SELECT i, (now() AT TIME ZONE 'UTC') - make_interval(secs => i * 31.5) AS d
             FROM generate_series(1, {orders}) i) s""",
    """INSERT INTO order_items (order_id, product_id, quantity, credit_value)
       SELECT o.id, (SELECT min(id) FROM products) + (o.id * 31 + k * 17) % 300,
              1 + (o.id + k) % 3, 10
       FROM orders o, generate_series(0, 2) k WHERE k <= o.id % 3""",
]

TEXTS = [
    "%",
    "_",
    "\\",
    "%_" * 50,
    "x" * 100,
    "zzzz-no-such-thing",
    "z",
    "Qx",
    "é",
    "7",
    "a",
    "e",
    "or",
    "ORD",
    "ORD-2026",
    "example.com",
    "ORD-20261201",
    "0000042",
    "grace1",
    "grace11118",
    "grace11118@example.com",
    "Rye bread",
    "Smoked salmon",
    "bread",
    "tea",
]


def sql_array(words) -> str:
    return ",".join("'" + w.replace("'", "''") + "'" for w in words)


def create_database(url: str) -> None:
    """Create the database ``url`` names when it does not exist (PostgreSQL)."""
    import psycopg

    target = sa.engine.make_url(url)
    admin = target.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (target.database,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{target.database}"')


def prepare(orders: int) -> None:
    upgrade(directory=str(ROOT / "migrations"))
    if db.session.scalar(sa.text("SELECT count(*) FROM orders")):
        return
    started = time.perf_counter()
    values = {
        "names": sql_array(NAMES),
        "name_count": len(NAMES),
        "adjectives": sql_array(ADJECTIVES),
        "nouns": sql_array(NOUNS),
        "orders": orders,
    }
    for statement in PREPARE:
        db.session.execute(sa.text(statement.format(**values)))
        db.session.commit()
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("VACUUM ANALYZE"))
    print(f"prepared {orders} orders in {time.perf_counter() - started:.0f} s")


def timed(app, work, runs: int) -> tuple[float, float, object]:
    """``(median ms, slowest ms, last answer)`` of ``work()`` run as one request each time
    (the search plan is made once per request), after one warm-up run."""
    times, answer = [], None
    for attempt in range(runs + 1):
        with app.test_request_context():
            started = time.perf_counter()
            answer = work()
            took = (time.perf_counter() - started) * 1000
            db.session.rollback()
        if attempt:
            times.append(took)
    return statistics.median(times), max(times), answer


def measure(app, view: OrderFilter, runs: int):
    """The two requests a search makes: the dashboard's page (plan, 25 rows, count) and
    "select all matching" (plan, 500 ids, count)."""
    page = timed(app, lambda: search_orders(view, 1, 25), runs)
    ids = timed(app, lambda: matching_ids(view, 500), runs)
    found = page[2]
    total = f"{found.total:,}{'+' if getattr(found, 'capped', False) else ''}"
    return page[:2], ids[:2], total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    create_database(args.database_url)
    app = create_app("development", SQLALCHEMY_DATABASE_URI=args.database_url)
    with app.app_context():
        prepare(args.orders)
        count = db.session.scalar(sa.text("SELECT count(*) FROM orders"))
        print(f"{count} orders; {args.runs} runs each after a warm-up; milliseconds")
        print(
            f"{'text':<28} {'page med':>9} {'page max':>9} {'ids med':>8} {'ids max':>8} "
            f"{'matches':>10}"
        )
        worst = 0.0
        for text in TEXTS:
            page, ids, total = measure(app, OrderFilter(q=text[:100]), args.runs)
            worst = max(worst, page[1], ids[1])
            label = text if len(text) <= 26 else text[:23] + "..."
            print(
                f"{label!r:<28} {page[0]:>9.1f} {page[1]:>9.1f} {ids[0]:>8.1f} {ids[1]:>8.1f} "
                f"{total:>10}"
            )
        print(f"slowest request: {worst:.0f} ms")


if __name__ == "__main__":
    main()

"""What one search of the orders table costs on PostgreSQL with a million orders, whatever
the text: the dashboard's page (the count and the first 25 rows) and the "select all
matching" ids, for texts that match nothing, a few orders, or nearly all of them, LIKE
wildcards (literal since docs/admin-tools.md's search rule) and 100 characters of junk.

Usage (one command; prepares the database the first time, ~2 minutes):
``python bench/search_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1/orderpulse_search``

The data: 20,000 customers, 300 products, 1,000,000 orders over a year with 1-3 items each
(about 2 million lines). Each text runs 5 times after a warm-up; the figures are the median
and the slowest, in milliseconds.
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
from app.services.order_query import OrderFilter, matching_ids, search_orders  # noqa: E402

NAMES = [
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "niaj",
    "olivia",
    "peggy",
]
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


def measure(app, view: OrderFilter, runs: int) -> tuple[float, float, str]:
    """``(median ms, slowest ms, matches)`` of what one dashboard request with ``q`` reads:
    the search plan, the page (count + 25 rows), and the "select all matching" ids."""
    times = []
    total = ""
    for attempt in range(runs + 1):
        with app.test_request_context():  # the plan is made once per request
            started = time.perf_counter()
            page = search_orders(view, 1, 25)
            matching_ids(view, 500)
            took = (time.perf_counter() - started) * 1000
            db.session.rollback()
        total = f"{page.total:,}{'+' if getattr(page, 'capped', False) else ''}"
        if attempt:  # the first run warms the caches
            times.append(took)
    return statistics.median(times), max(times), total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    app = create_app("development", SQLALCHEMY_DATABASE_URI=args.database_url)
    with app.app_context():
        prepare(args.orders)
        count = db.session.scalar(sa.text("SELECT count(*) FROM orders"))
        print(f"{count} orders; page (count + 25 rows) + ids, {args.runs} runs each")
        print(f"{'text':<28} {'median ms':>10} {'max ms':>8} {'matches':>10}")
        worst = 0.0
        for text in TEXTS:
            median, slowest, total = measure(app, OrderFilter(q=text[:100]), args.runs)
            worst = max(worst, slowest)
            label = text if len(text) <= 26 else text[:23] + "..."
            print(f"{label!r:<28} {median:>10.1f} {slowest:>8.1f} {total:>10}")
        print(f"slowest search: {worst:.0f} ms")


if __name__ == "__main__":
    main()

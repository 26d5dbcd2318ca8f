"""Revenue by 15-minute UTC bucket (``revenue_buckets``), kept in each order write's own
transaction: one upsert per order placed or cancelled, never a ``GROUP BY`` per read.

A bucket is ``[start (Unix s), revenue (credits), orders, cancelled]``: revenue is what the
live orders kept, ``orders`` every order placed in it, ``cancelled`` how many of those
are cancelled now; the live orders, which the status cards count, are ``orders -
cancelled``."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.models import BUCKET_SECONDS, Order, RevenueBucket
from app.models.timestamps import utcnow

WINDOW_HOURS = 48  # yesterday and today in every zone from UTC-12 to UTC+14
_COLUMNS = (
    RevenueBucket.bucket_start,
    RevenueBucket.revenue,
    RevenueBucket.orders,
    RevenueBucket.cancelled,
)


def bucket_of(moment: datetime) -> int:
    """The bucket (its start in Unix seconds) holding naive-UTC ``moment``."""
    seconds = int(moment.replace(tzinfo=UTC).timestamp())
    return seconds - seconds % BUCKET_SECONDS


def add(placed: datetime, credits: int, orders: int, cancelled: int = 0) -> None:
    """Add ``credits``, ``orders`` and ``cancelled`` (any may be negative) to the bucket of
    ``placed``, inside the caller's transaction. Takes the bucket row's lock until commit:
    callers do it just before ``counts.apply_delta``, the other short-held lock."""
    add_to_bucket(bucket_of(placed), credits, orders, cancelled)


def add_to_bucket(start: int, credits: int, orders: int, cancelled: int = 0) -> None:
    """``add`` for the bucket starting at ``start`` (Unix seconds): a batch of changes adds
    each bucket's sums once, in bucket order (``changes.record_changes``)."""
    table = RevenueBucket.__table__
    dialect = db.session.get_bind().dialect.name
    insert = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    stmt = insert.values(bucket_start=start, revenue=credits, orders=orders, cancelled=cancelled)
    db.session.execute(
        stmt.on_conflict_do_update(
            index_elements=["bucket_start"],
            set_={
                "revenue": table.c.revenue + stmt.excluded.revenue,
                "orders": table.c.orders + stmt.excluded.orders,
                "cancelled": table.c.cancelled + stmt.excluded.cancelled,
            },
        )
    )


def window(now: datetime | None = None, hours: int = WINDOW_HOURS) -> list[list[int]]:
    """Non-empty buckets of the last ``hours`` (and the current one), oldest first, as
    ``[[bucket_start (Unix s), revenue (credits), orders, cancelled], ...]``: a primary-key
    range."""
    now = now or utcnow()
    first = bucket_of(now - timedelta(hours=hours))
    return between(first, bucket_of(now) + BUCKET_SECONDS)


def between(first: int, end: int) -> list[list[int]]:
    """Buckets with ``first <= bucket_start < end`` (Unix seconds), as in ``window``."""
    rows = db.session.execute(
        sa.select(*_COLUMNS)
        .where(RevenueBucket.bucket_start >= first, RevenueBucket.bucket_start < end)
        .order_by(RevenueBucket.bucket_start)
    )
    return [[int(s), int(r), int(n), int(c)] for s, r, n, c in rows if r or n]


def bucket_sql(column, dialect: str):
    """SQL for the bucket start (Unix seconds) of a naive-UTC timestamp ``column``."""
    if dialect == "postgresql":
        seconds = sa.cast(sa.func.floor(sa.extract("epoch", column)), sa.BigInteger)
    else:  # SQLite reads its stored "YYYY-MM-DD HH:MM:SS" text as UTC
        seconds = sa.cast(sa.func.strftime("%s", column), sa.BigInteger)
    return seconds - seconds % BUCKET_SECONDS


def true_buckets() -> dict[int, tuple[int, int, int]]:
    """Recompute every bucket from ``orders`` (one ``GROUP BY``; for reconcile only):
    ``{bucket_start: (revenue, orders, cancelled)}``."""
    dialect = db.session.get_bind().dialect.name
    bucket = bucket_sql(Order.date_ordered, dialect).label("bucket")
    # Partial refunds came off the revenue of the order's bucket; a cancel took the rest.
    kept = Order.total_credits - Order.refunded_credits
    revenue = sa.func.sum(sa.case((Order.cancelled.is_(False), kept), else_=0))
    cancelled = sa.func.sum(sa.case((Order.cancelled.is_(True), 1), else_=0))
    rows = db.session.execute(
        sa.select(bucket, revenue, sa.func.count(), cancelled).group_by(bucket)
    )
    return {int(start): (int(r or 0), int(n), int(c or 0)) for start, r, n, c in rows}


def reconcile() -> dict[int, tuple[tuple[int, int, int], tuple[int, int, int]]]:
    """Make ``revenue_buckets`` equal the truth; returns drift as
    ``{bucket_start: ((stored revenue, orders, cancelled), (true ones))}``."""
    truth = true_buckets()
    stored = {
        int(s): (int(r), int(n), int(c)) for s, r, n, c in db.session.execute(sa.select(*_COLUMNS))
    }
    drift = {}
    for start in set(truth) | set(stored):
        have, want = stored.get(start, (0, 0, 0)), truth.get(start, (0, 0, 0))
        if have != want:
            drift[start] = (have, want)
            revenue, orders, cancelled = want
            db.session.merge(
                RevenueBucket(
                    bucket_start=start, revenue=revenue, orders=orders, cancelled=cancelled
                )
            )
    return drift

"""Revenue by 15-minute UTC bucket (``revenue_buckets``), kept in each order write's own
transaction: one upsert per order placed or cancelled on the transaction's shard of the
bucket (``counts.shard``), never a ``GROUP BY`` over orders per read (a read sums at most
``SHARDS`` rows per bucket).

A bucket is ``[start (Unix s), revenue (credits), orders, cancelled]``: revenue is what the
live orders kept, ``orders`` every order placed in it, ``cancelled`` how many of those
are cancelled now; the live orders, which the status cards count, are ``orders -
cancelled``."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import BUCKET_SECONDS, Order, RevenueBucket
from app.models.timestamps import utcnow
from app.services import counts

WINDOW_HOURS = 48  # yesterday and today in every zone from UTC-12 to UTC+14
# Each bucket's shards summed (a read's columns, in the order of a window row).
_SUMMED = sa.select(
    RevenueBucket.bucket_start,
    sa.func.sum(RevenueBucket.revenue),
    sa.func.sum(RevenueBucket.orders),
    sa.func.sum(RevenueBucket.cancelled),
).group_by(RevenueBucket.bucket_start)


def bucket_of(moment: datetime) -> int:
    """The bucket (its start in Unix seconds) holding naive-UTC ``moment``."""
    seconds = int(moment.replace(tzinfo=UTC).timestamp())
    return seconds - seconds % BUCKET_SECONDS


# Text: SQLAlchemy's upsert construct is compiled again on every execution (it has no
# cache key), which cost more than running it. PostgreSQL and SQLite both read this.
ADD = sa.text(
    "INSERT INTO revenue_buckets (bucket_start, shard, revenue, orders, cancelled) "
    "VALUES (:bucket_start, :shard, :revenue, :orders, :cancelled) "
    "ON CONFLICT (bucket_start, shard) DO UPDATE SET "
    "revenue = revenue_buckets.revenue + excluded.revenue, "
    "orders = revenue_buckets.orders + excluded.orders, "
    "cancelled = revenue_buckets.cancelled + excluded.cancelled"
)


def add(placed: datetime, credits: int, orders: int, cancelled: int = 0) -> None:
    """Add ``credits``, ``orders`` and ``cancelled`` (any may be negative) to the bucket of
    ``placed``, inside the caller's transaction: one upsert on this transaction's shard of
    the bucket (``counts.shard``), whose lock it holds until commit (callers do it before
    the counters, the lock order every writer keeps)."""
    add_to_bucket(bucket_of(placed), credits, orders, cancelled)


def add_to_bucket(start: int, credits: int, orders: int, cancelled: int = 0) -> None:
    """``add`` for the bucket starting at ``start`` (Unix seconds): a batch of changes adds
    each bucket's sums once, in bucket order (``changes.record_changes``)."""
    db.session.connection().execute(
        ADD,
        {
            "bucket_start": start,
            "shard": counts.shard(),
            "revenue": credits,
            "orders": orders,
            "cancelled": cancelled,
        },
    )


def window(now: datetime | None = None, hours: int = WINDOW_HOURS) -> list[list[int]]:
    """Non-empty buckets of the last ``hours`` (and the current one), oldest first, as
    ``[[bucket_start (Unix s), revenue (credits), orders, cancelled], ...]``: a primary-key
    range."""
    now = now or utcnow()
    first = bucket_of(now - timedelta(hours=hours))
    return between(first, bucket_of(now) + BUCKET_SECONDS)


def between(first: int, end: int) -> list[list[int]]:
    """Buckets with ``first <= bucket_start < end`` (Unix seconds), as in ``window``: a
    primary-key range, each bucket's shards summed."""
    rows = db.session.execute(
        _SUMMED.where(
            RevenueBucket.bucket_start >= first, RevenueBucket.bucket_start < end
        ).order_by(RevenueBucket.bucket_start)
    )
    return [[int(s), int(r), int(n), int(c)] for s, r, n, c in rows if r or n]


def stored_buckets() -> dict[int, tuple[int, int, int]]:
    """Every bucket, its shards summed: ``{bucket_start: (revenue, orders, cancelled)}``."""
    rows = db.session.execute(_SUMMED)
    return {int(s): (int(r or 0), int(n or 0), int(c or 0)) for s, r, n, c in rows}


def bucket_sql(column, dialect: str):
    """SQL for the bucket start (Unix seconds) of a naive-UTC timestamp ``column``."""
    if dialect == "postgresql":
        seconds = sa.cast(sa.func.floor(sa.extract("epoch", column)), sa.BigInteger)
    else:  # SQLite reads its stored "YYYY-MM-DD HH:MM:SS" text as UTC
        seconds = sa.cast(sa.func.strftime("%s", column), sa.BigInteger)
    return seconds - seconds % BUCKET_SECONDS


def _true_query(dialect: str):
    bucket = bucket_sql(Order.date_ordered, dialect).label("bucket")
    # Partial refunds came off the revenue of the order's bucket; a cancel took the rest.
    kept = Order.total_credits - Order.refunded_credits
    revenue = sa.func.sum(sa.case((Order.cancelled.is_(False), kept), else_=0))
    cancelled = sa.func.sum(sa.case((Order.cancelled.is_(True), 1), else_=0))
    return sa.select(bucket, revenue, sa.func.count(), cancelled).group_by(bucket)


def true_buckets() -> dict[int, tuple[int, int, int]]:
    """Recompute every bucket from ``orders`` (one ``GROUP BY``; for reconcile only):
    ``{bucket_start: (revenue, orders, cancelled)}``."""
    rows = db.session.execute(_true_query(db.session.get_bind().dialect.name))
    return {int(start): (int(r or 0), int(n), int(c or 0)) for start, r, n, c in rows}


def reconcile() -> dict[int, tuple[tuple[int, int, int], tuple[int, int, int]]]:
    """Make ``revenue_buckets`` equal the truth; returns drift as
    ``{bucket_start: ((stored revenue, orders, cancelled), (true ones))}``.

    Stored and true values come from one statement (one snapshot) and each difference is
    *added* to this transaction's shard, so checkouts that commit meanwhile keep theirs."""
    recount = _true_query(db.session.get_bind().dialect.name).subquery()
    stored = _SUMMED.subquery()
    both = sa.union_all(sa.select(sa.literal(1), *recount.c), sa.select(sa.literal(0), *stored.c))
    truth: dict[int, tuple[int, int, int]] = {}
    have: dict[int, tuple[int, int, int]] = {}
    for is_truth, start, r, n, c in db.session.execute(both):
        (truth if is_truth else have)[int(start)] = (int(r or 0), int(n or 0), int(c or 0))
    drift = {}
    for start in sorted(set(truth) | set(have)):
        stored_row, want = have.get(start, (0, 0, 0)), truth.get(start, (0, 0, 0))
        if stored_row != want:
            drift[start] = (stored_row, want)
            add_to_bucket(start, *(w - h for w, h in zip(want, stored_row, strict=True)))
    return drift

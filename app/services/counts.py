"""The ``order_counts`` table: O(1) stats, bumped in the order write's own transaction."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.models import ORDER_STATUSES, Order, OrderCount
from app.models.counts import CANCELLED, TOTAL

ROW_NAMES = (TOTAL, *ORDER_STATUSES, CANCELLED)

# Seed contract's stat keys (docs/design.md §4) for each counter row.
STAT_KEYS = {
    TOTAL: "total_orders",
    "Pending": "pending_count",
    "Shipped": "shipped_count",
    "Out for Delivery": "out_for_delivery",
    "Delivered": "delivered_count",
    CANCELLED: "cancelled_count",
}


def insert(table):
    """``INSERT`` for the session's dialect, with ``on_conflict_do_*`` (PostgreSQL and SQLite
    both have it)."""
    dialect = db.session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


def ensure_rows() -> None:
    """Create any missing counter row at zero; safe to run concurrently (ON CONFLICT)."""
    stmt = insert(OrderCount.__table__).values(
        [{"name": name, "count": 0, "version": 0} for name in ROW_NAMES]
    )
    db.session.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))


def apply_delta(deltas: dict[str, int], step: int = 1) -> int:
    """Add ``deltas`` (row name → change) and return the new version.

    One statement updates every touched row and bumps the ``total`` row's version by
    ``step`` (a batch of ``step`` changes takes the versions ``new - step + 1 .. new``,
    one each: ``changes.record_changes``). The
    ``total`` row's lock serialises writers until they commit, so versions are unique and
    follow commit order. Call it last before the commit: the lock is then held for this one
    round trip and the commit, which is what bounds checkout throughput under load.
    """
    changes = [(OrderCount.name == name, delta) for name, delta in deltas.items() if delta]
    names = {TOTAL} | {name for name, delta in deltas.items() if delta}
    change = sa.case(*changes, else_=0) if changes else 0
    bump = (
        sa.update(OrderCount)
        .where(OrderCount.name.in_(names))
        .values(
            count=OrderCount.count + change,
            version=sa.case(
                (OrderCount.name == TOTAL, OrderCount.version + step), else_=OrderCount.version
            ),
        )
        .returning(OrderCount.name, OrderCount.version)
    )
    rows = dict(db.session.execute(bump).all())
    if len(rows) < len(names):  # a fresh database without its counter rows
        ensure_rows()
        rows = dict(db.session.execute(bump).all())
    return int(rows[TOTAL])


def read_stats() -> dict:
    """Current stats in one query.

    Returns ``{total_orders, pending_count, shipped_count, out_for_delivery, delivered_count,
    cancelled_count, version}``, all ``int``.
    """
    stats = dict.fromkeys(STAT_KEYS.values(), 0)
    stats["version"] = 0
    for name, count, version in db.session.execute(
        sa.select(OrderCount.name, OrderCount.count, OrderCount.version)
    ):
        if name in STAT_KEYS:
            stats[STAT_KEYS[name]] = int(count)
        if name == TOTAL:  # only the total row's version moves (apply_delta)
            stats["version"] = int(version)
    return stats


def read_version() -> int:
    """The current version: one primary-key lookup (the hub's cross-process check)."""
    version = db.session.scalar(sa.select(OrderCount.version).where(OrderCount.name == TOTAL))
    return int(version or 0)


def true_counts() -> dict[str, int]:
    """Recompute every counter from ``orders`` (full scan; for reconcile only)."""
    truth = dict.fromkeys(ROW_NAMES, 0)
    rows = db.session.execute(
        sa.select(Order.status, Order.cancelled, sa.func.count()).group_by(
            Order.status, Order.cancelled
        )
    )
    for status, cancelled, count in rows:
        truth[TOTAL] += count
        truth[CANCELLED if cancelled else status] += count
    return truth


def reconcile() -> dict[str, tuple[int, int]]:
    """Make ``order_counts`` equal the truth; returns drift as ``{name: (stored, true)}``.

    An empty dict means no drift. Any fix bumps the version so open streams resync.
    """
    ensure_rows()
    # Lock the total row first, like every writer, so no order write interleaves.
    apply_delta({})
    truth = true_counts()
    stored = dict(db.session.execute(sa.select(OrderCount.name, OrderCount.count)).all())
    drift = {n: (int(stored.get(n, 0)), truth[n]) for n in ROW_NAMES if stored.get(n) != truth[n]}
    for name, (_, true_value) in drift.items():
        db.session.execute(
            sa.update(OrderCount).where(OrderCount.name == name).values(count=true_value)
        )
    return drift

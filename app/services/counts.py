"""The order counters: O(1) stats, added to in the order write's own transaction.

Each counter is the sum of up to ``SHARDS`` rows of ``order_counts`` (``app/models/counts.py``).
A transaction adds to one shard, picked at random on its first counter write and kept until
it ends (``shard``), so two concurrent checkouts rarely wait on each other, and a
transaction that writes several times (a bulk action) locks its counter rows in one order.
The change version is ``order_versions``' one row (``next_version``).
"""

import functools
import random

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db, listen_once
from app.models import ORDER_STATUSES, Order, OrderCount, OrderVersion
from app.models.counts import CANCELLED, SHARDS, TOTAL, VERSION_ROW

ROW_NAMES = (TOTAL, *ORDER_STATUSES, CANCELLED)
SHARD_KEY = "counter_shard"

# Seed contract's stat keys (docs/design.md §4) for each counter.
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


def shard() -> int:
    """This transaction's shard (0..``SHARDS``-1): random, then the same until it ends."""
    info = db.session.info
    if SHARD_KEY not in info:
        info[SHARD_KEY] = random.randrange(SHARDS)  # noqa: S311  (spreading, not secrecy)
    return info[SHARD_KEY]


def _forget_shard(session: so.Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(SHARD_KEY, None)


def init_app(app: Flask) -> None:
    """Forget a transaction's shard when it ends (a Session event, registered once)."""
    listen_once(so.Session, {"after_transaction_end": _forget_shard})


def ensure_rows() -> None:
    """Create the version row at zero if it is missing; safe to run concurrently (ON
    CONFLICT). Counter shards need no row in advance: ``add`` makes them."""
    stmt = insert(OrderVersion.__table__).values(id=VERSION_ROW, version=0)
    db.session.execute(stmt.on_conflict_do_nothing(index_elements=["id"]))


@functools.cache
def _add_statement(rows: int):
    # Text, built once per number of counters: SQLAlchemy's upsert construct is compiled
    # again on every execution (it has no cache key), which cost more than running it.
    # PostgreSQL and SQLite both read this ON CONFLICT clause.
    values = ", ".join(f"(:name{i}, :shard, :count{i})" for i in range(rows))
    return sa.text(
        f"INSERT INTO order_counts (name, shard, count) VALUES {values} "
        "ON CONFLICT (name, shard) DO UPDATE SET count = order_counts.count + excluded.count"
    )


def add(deltas: dict[str, int]) -> None:
    """Add ``deltas`` (counter name → change) to this transaction's shard: one ``INSERT ...
    ON CONFLICT DO UPDATE``, which holds only that shard's rows until commit."""
    moved = sorted((name, delta) for name, delta in deltas.items() if delta)
    if not moved:
        return
    params = {"shard": shard()}
    for i, (name, delta) in enumerate(moved):
        params[f"name{i}"], params[f"count{i}"] = name, delta
    db.session.connection().execute(_add_statement(len(moved)), params)


@functools.cache
def version_statement(step: int = 1):
    """``UPDATE order_versions ... RETURNING version`` adding ``step`` (built once per step)."""
    table = OrderVersion.__table__
    return (
        sa.update(table)
        .where(table.c.id == VERSION_ROW)
        .values(version=table.c.version + step)
        .returning(table.c.version)
    )


VERSION_STATEMENT = version_statement(1)


def next_version(step: int = 1) -> int:
    """Take the next ``step`` versions and return the last (a batch of ``step`` changes takes
    ``new - step + 1 .. new``, one each: ``changes.record_changes``). The row's lock
    serialises writers until they commit, so versions are unique and follow commit order:
    call it last before the commit."""
    stmt = version_statement(step)
    version = db.session.connection().execute(stmt).scalar()
    if version is None:  # a fresh database without its version row
        ensure_rows()
        version = db.session.connection().execute(stmt).scalar()
    return int(version)


def apply_delta(deltas: dict[str, int], step: int = 1) -> int:
    """Add ``deltas`` (counter name → change; ``{}`` for none) and return the new version:
    ``add`` then ``next_version(step)``, in the lock order every writer keeps (counter shard,
    then the version row). A batch of ``step`` changes takes the versions
    ``new - step + 1 .. new``, one each (``changes.record_changes``)."""
    add(deltas)
    return next_version(step)


def read_stats() -> dict:
    """Current stats in one query (each counter's shards summed: O(``SHARDS``) rows).

    Returns ``{total_orders, pending_count, shipped_count, out_for_delivery, delivered_count,
    cancelled_count, version}``, all ``int``.
    """
    stats = dict.fromkeys(STAT_KEYS.values(), 0)
    version = sa.select(OrderVersion.version).where(OrderVersion.id == VERSION_ROW)
    counters = sa.select(OrderCount.name, sa.func.sum(OrderCount.count)).group_by(OrderCount.name)
    # One statement, so the counts and the version come from one snapshot.
    both = sa.union_all(
        counters, sa.select(sa.literal("").label("name"), version.scalar_subquery())
    )
    stats["version"] = 0
    for name, value in db.session.execute(both):
        if name in STAT_KEYS:
            stats[STAT_KEYS[name]] = int(value or 0)
        elif name == "":
            stats["version"] = int(value or 0)
    return stats


def read_version() -> int:
    """The current version: one primary-key lookup (the hub's cross-process check)."""
    version = db.session.scalar(
        sa.select(OrderVersion.version).where(OrderVersion.id == VERSION_ROW)
    )
    return int(version or 0)


def stored_counts() -> dict[str, int]:
    """Every counter, its shards summed."""
    rows = db.session.execute(
        sa.select(OrderCount.name, sa.func.sum(OrderCount.count)).group_by(OrderCount.name)
    )
    return {name: int(total or 0) for name, total in rows}


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


def _stored_and_true() -> tuple[dict[str, int], dict[str, int]]:
    # One statement, one snapshot: an order write commits both its order row and its
    # counter shard, so in one snapshot either both are counted or neither is. ``kind``:
    # 0 a recount of orders not cancelled, 1 of cancelled ones, 2 a stored counter.
    recount = sa.select(
        Order.status,
        sa.case((Order.cancelled.is_(True), 1), else_=0).label("kind"),
        sa.func.count().label("value"),
    ).group_by(Order.status, Order.cancelled)
    stored = sa.select(
        OrderCount.name, sa.literal(2).label("kind"), sa.func.sum(OrderCount.count)
    ).group_by(OrderCount.name)
    have, truth = {}, dict.fromkeys(ROW_NAMES, 0)
    for name, kind, value in db.session.execute(sa.union_all(recount, stored)):
        if kind == 2:
            have[name] = int(value or 0)
        else:
            truth[CANCELLED if kind else name] += int(value)
            truth[TOTAL] += int(value)
    return have, truth


def reconcile() -> dict[str, tuple[int, int]]:
    """Make the counters equal the truth; returns drift as ``{name: (stored, true)}``.

    An empty dict means no drift. Stored and true values come from one snapshot and the
    difference is *added* (to this transaction's shard), so order writes that commit
    meanwhile keep their own additions and nothing waits on a lock for the recount. Any
    fix bumps the version so open streams resync.
    """
    ensure_rows()
    have, truth = _stored_and_true()
    drift = {n: (have.get(n, 0), truth[n]) for n in ROW_NAMES if have.get(n, 0) != truth[n]}
    if drift:
        apply_delta({name: true - stored for name, (stored, true) in drift.items()})
    return drift

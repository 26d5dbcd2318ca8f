"""The change log: every order write is stamped with the change version it commits
as (on its ``order_activity`` row), so "what changed since version V" is one index range.

Dashboards resume from it after a reconnect (``Last-Event-ID``), and each worker's hub reads
it to turn any commit, from this process or another (a CLI job, another host), into the same
``event: order`` frames.
"""

import functools
import time
from dataclasses import dataclass
from datetime import UTC

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models import Order, OrderActivity, Product, User
from app.services import counts, outbox, revenue, stock
from app.services.activity import activity_entry, activity_row
from app.services.serializers import order_summary


def record_change(
    order: Order,
    kind: str,
    actor: User | None,
    deltas: dict[str, int],
    credits: int = 0,
    placed: int = 0,
    cancelled: int = 0,
    from_status: str | None = None,
    note: str | None = None,
    **entry,
) -> int:
    """The tail every order write shares, inside the caller's transaction: add ``credits``
    (revenue; negative for a refund), ``placed`` orders and ``cancelled`` ones (+1 for a
    cancel, -1 for its undo) to the order's revenue bucket, add the counter ``deltas``
    (``{}`` for a change that moves no counter: a note, a tag, a refund), then take the new
    version, stamp the products whose stock this transaction changed with it and record the
    activity entry stamped with it (``entry``: ``ref_id``, ``amount``, ``at`` for
    ``activity_row``); the outbox announces it after commit. Returns the version.

    Locks, in the order every writer takes them (so no deadlock): the revenue bucket's and
    the counters' shards (``counts.shard``: rarely wanted by another transaction at the same
    time), then the version row, which every writer wants: on PostgreSQL it is taken by the
    last statement before COMMIT, the same one that stamps the products and inserts the
    activity row, so it is held for one round trip and the commit. Pending ORM changes
    (the order's own) are flushed first: these are Core statements.
    """
    db.session.flush()
    if credits or placed or cancelled:
        revenue.add(order.date_ordered, credits, placed, cancelled)
    counts.add(deltas)
    row = activity_row(order, kind, actor, from_status=from_status, note=note, **entry)
    version = _versioned_activity(row, stock.take_touched())
    outbox.order_written(version)
    return version


@dataclass(frozen=True)
class Move:
    """One order's change in a batch (``record_changes``): what ``record_change`` takes for
    one order, minus the actor and the time, which the batch shares."""

    order: Order
    kind: str
    deltas: dict[str, int]
    credits: int = 0
    cancelled: int = 0
    from_status: str | None = None
    note: str | None = None


def record_changes(moves: list[Move], actor: User | None, at) -> list[int]:
    """``record_change`` for many orders at once, inside the caller's transaction, with the
    same result as one call per order in the order of ``moves``: each move gets its own
    version (``counts.apply_delta(..., step=len(moves))`` hands out ``len(moves)`` of them
    in one statement) and its own activity entry (one multi-row ``INSERT``); the revenue
    buckets get each bucket's sum once, in bucket order, on this transaction's shard, then
    the counters' shard once and the version row last, so the locks are taken in
    ``record_change``'s order and held for a few statements
    whatever the batch's size; the products the transaction touched are stamped with the
    last version, which the outbox announces (one ``NOTIFY`` at commit). ``at`` (naive UTC)
    is every entry's time. Returns the versions, in the order of ``moves``."""
    if not moves:
        return []
    db.session.flush()  # the orders' own changes: what follows are Core statements
    buckets: dict[int, tuple[int, int]] = {}  # bucket start: (credits, cancelled)
    totals: dict[str, int] = {}
    for move in moves:
        if move.credits or move.cancelled:
            start = revenue.bucket_of(move.order.date_ordered)
            credits, cancelled = buckets.get(start, (0, 0))
            buckets[start] = (credits + move.credits, cancelled + move.cancelled)
        for name, delta in move.deltas.items():
            totals[name] = totals.get(name, 0) + delta
    for start in sorted(buckets):
        if any(buckets[start]):
            revenue.add_to_bucket(start, buckets[start][0], 0, buckets[start][1])
    last = counts.apply_delta(totals, step=len(moves))
    versions = list(range(last - len(moves) + 1, last + 1))
    stock.stamp_ids(stock.take_touched(), last)
    actor_id = actor.id if actor is not None else None
    rows = [
        {
            "order_id": move.order.id,
            "actor_id": actor_id,
            "kind": move.kind,
            "from_status": move.from_status,
            "to_status": move.order.status,
            "note": move.note,
            "at": at,
            "version": version,
        }
        for move, version in zip(moves, versions, strict=True)
    ]
    db.session.execute(sa.insert(OrderActivity), rows)
    outbox.order_written(last)
    return versions


_activity = OrderActivity.__table__
ACTIVITY_COLUMNS = (
    "order_id",
    "actor_id",
    "kind",
    "from_status",
    "to_status",
    "note",
    "at",
    "ref_id",
    "credits",
)
INSERT_ACTIVITY = sa.insert(_activity).values(
    {column: sa.bindparam(column) for column in (*ACTIVITY_COLUMNS, "version")}
)


@functools.cache
def _versioned_insert(stamps_products: bool):
    """PostgreSQL: ``WITH taken AS (UPDATE order_versions ... RETURNING version)[, stamped
    AS (UPDATE products SET version = ...)] INSERT INTO order_activity ... RETURNING id,
    version``, built once (building it costs more Python than running it)."""
    taken = counts.VERSION_STATEMENT.cte("taken_version")
    version = sa.select(taken.c.version).scalar_subquery()
    stmt = (
        sa.insert(_activity)
        .values({**{c: sa.bindparam(c) for c in ACTIVITY_COLUMNS}, "version": version})
        .returning(_activity.c.id, _activity.c.version)
        .add_cte(taken)
    )
    if stamps_products:
        products = Product.__table__
        stamped = (
            sa.update(products)
            .where(products.c.id.in_(sa.bindparam("product_ids", expanding=True)))
            .values(version=version)
            .returning(products.c.id)
            .cte("stamped")
        )
        stmt = stmt.add_cte(stamped)
    return stmt


def _versioned_activity(row: dict, product_ids: list[int]) -> int:
    """Take the next version, stamp ``product_ids`` with it and insert the activity ``row``
    with it; returns the version. PostgreSQL: one statement (data-modifying ``WITH``)."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        version = counts.next_version()
        stock.stamp_ids(product_ids, version)
        connection.execute(INSERT_ACTIVITY, {**row, "version": version})
        return version
    params = {**row, "product_ids": product_ids} if product_ids else row
    activity_id, taken_version = connection.execute(
        _versioned_insert(bool(product_ids)), params
    ).one()
    if taken_version is None:  # a fresh database without its version row
        taken_version = counts.next_version()
        stock.stamp_ids(product_ids, taken_version)
        connection.execute(
            sa.update(_activity).where(_activity.c.id == activity_id).values(version=taken_version)
        )
    return int(taken_version)


def record_catalogue_change() -> int:
    """A catalogue write with no order (a product added, edited, restocked, withdrawn):
    take a version, stamp the products this transaction touched with it (``stock.touch``)
    and announce it after commit, so every storefront's live stock and every dashboard
    hears of it like an order change. Returns the version."""
    version = counts.next_version()
    stock.stamp_ids(stock.take_touched(), version)
    outbox.order_written(version)
    return version


@dataclass(frozen=True)
class Change:
    """One committed change: the activity row, the order's current state, its customer and
    the actor's username (``None`` for the system)."""

    activity: OrderActivity
    order: Order
    customer: User
    actor: str | None


def changes_since(after: int, upto: int | None = None, limit: int = 1000):
    """Changes with ``after < version <= upto`` (no upper bound when ``None``), oldest
    first, as ``Change`` objects; ``None`` when there are more than ``limit`` of them (the
    caller then resets instead of replaying). One query, an index range on the version;
    ``order.customer`` is then served from the identity map, with no query of its own."""
    actor = so.aliased(User)
    query = (
        sa.select(OrderActivity, Order, User, actor.username)
        .join(Order, Order.id == OrderActivity.order_id)
        .join(User, User.id == Order.user_id)
        .outerjoin(actor, actor.id == OrderActivity.actor_id)
        .where(OrderActivity.version > after)
        .order_by(OrderActivity.version, OrderActivity.id)
        .limit(limit + 1)
        # The summaries carry the tags: one more query per read, never one per order.
        .options(so.selectinload(Order.tag_rows))
    )
    if upto is not None:
        query = query.where(OrderActivity.version <= upto)
    rows = db.session.execute(query).all()
    if len(rows) > limit:
        return None
    return [Change(a, o, c, name) for a, o, c, name in rows]


def event_body(change: Change) -> dict:
    """The contract's ``event: order`` body for one change (docs/design.md §4): ``{kind:
    "created"|"status"|"cancelled", order: order_summary, actor: username|null, activity:
    activity_entry}``."""
    entry = activity_entry(change.activity, change.order.order_number, change.actor)
    return {
        "kind": change.activity.kind,
        "order": order_summary(change.order),
        "actor": change.actor,
        "activity": entry,
    }


def missed(since: int, upto: int, max_versions: int, max_seconds: float):
    """What a client at version ``since`` missed up to ``upto``: ``(orders, activity)``,
    the newest summary of each changed order and every activity entry, oldest first; or
    ``None`` when it is beyond the resume window, more than ``max_versions`` versions
    behind or its first missed change older than ``max_seconds`` seconds (then it must
    reload with one request instead)."""
    if upto - since > max_versions:
        return None
    changes = changes_since(since, upto, max_versions)
    if changes is None:
        return None
    if changes and changes[0].activity.at.replace(tzinfo=UTC).timestamp() < (
        time.time() - max_seconds
    ):
        return None
    orders: dict[int, dict] = {}
    activity = []
    for change in changes:
        body = event_body(change)
        orders[change.order.id] = body["order"]
        activity.append(body["activity"])
    return list(orders.values()), activity

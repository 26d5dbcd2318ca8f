"""Revenue buckets kept in the order write's own transaction, summed into local hours for
zones such as +5:30 and -8 around their midnight, and reconciled; and the outbox that
announces a transaction's changes only once it commits."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import RevenueBucket, User
from app.services import outbox, revenue
from app.services.analytics import hourly_revenue
from app.services.status import cancel_order
from tests.factories import make_order, make_product


def _order(user_id, credits, when):
    user = db.session.get(User, user_id)
    return make_order(user, items=[(make_product(credit_value=credits), 1)], now=when)


def _buckets() -> dict:
    """Every bucket, its shards summed."""
    return revenue.stored_buckets()


def test_orders_and_cancellations_move_their_bucket(ctx, shop):
    placed = datetime(2026, 3, 10, 9, 7)
    first = _order(shop.alice.id, 10, placed)
    _order(shop.bob.id, 15, placed + timedelta(minutes=7))  # same 09:00-09:15 bucket
    _order(shop.bob.id, 4, placed + timedelta(minutes=10))  # 09:15-09:30
    start = revenue.bucket_of(placed)
    assert start % 900 == 0
    assert datetime.fromtimestamp(start, UTC) == datetime(2026, 3, 10, 9, tzinfo=UTC)
    assert _buckets() == {start: (25, 2, 0), start + 900: (4, 1, 0)}
    cancel_order(first, "test")
    db.session.commit()
    # The refund leaves the revenue; the order is still placed there, and now cancelled.
    assert _buckets()[start] == (15, 2, 1)
    assert revenue.reconcile() == {}


def test_reconcile_finds_and_fixes_drift(ctx, shop):
    placed = datetime(2026, 3, 10, 9, 7)
    _order(shop.alice.id, 10, placed)
    start = revenue.bucket_of(placed)
    db.session.execute(sa.update(RevenueBucket).values(revenue=0))
    db.session.execute(
        sa.update(RevenueBucket).where(RevenueBucket.bucket_start == start).values(revenue=999)
    )
    db.session.add(RevenueBucket(bucket_start=start + 900, shard=3, revenue=5, orders=1))
    db.session.commit()
    drift = revenue.reconcile()
    db.session.commit()
    assert drift == {start: ((999, 1, 0), (10, 1, 0)), start + 900: ((5, 1, 0), (0, 0, 0))}
    assert _buckets()[start] == (10, 1, 0) and revenue.reconcile() == {}


def test_window_lists_the_last_48_hours(ctx, shop):
    now = datetime(2026, 3, 10, 12, 0)
    _order(shop.alice.id, 7, now - timedelta(hours=49))  # out of the window
    _order(shop.alice.id, 8, now - timedelta(hours=47))
    _order(shop.alice.id, 9, now - timedelta(minutes=1))
    assert [b[1:] for b in revenue.window(now)] == [[8, 1, 0], [9, 1, 0]]


def test_india_plus_five_thirty_around_midnight(ctx, shop):
    # 23:50 on the 9th and 00:10 on the 10th in Kolkata (UTC+5:30), seen at 00:20 local.
    _order(shop.alice.id, 10, datetime(2026, 3, 9, 18, 20))
    _order(shop.alice.id, 20, datetime(2026, 3, 9, 18, 40))
    data = hourly_revenue(330, now=datetime(2026, 3, 9, 18, 50))
    assert data["yesterday"][23] == 10 and sum(data["yesterday"]) == 10
    assert data["today"][0] == 20 and sum(data["today"]) == 20
    assert data["day_start"] == datetime(2026, 3, 9, 18, 30)


def test_pacific_minus_eight_around_midnight(ctx, shop):
    # 23:45 on the 9th and 00:05 on the 10th in Los Angeles (UTC-8), seen at 00:30 local.
    _order(shop.alice.id, 3, datetime(2026, 3, 10, 7, 45))
    _order(shop.alice.id, 4, datetime(2026, 3, 10, 8, 5))
    data = hourly_revenue(-480, now=datetime(2026, 3, 10, 8, 30))
    assert (data["yesterday"][23], data["orders_yesterday"][23]) == (3, 1)
    assert (data["today"][0], data["orders_today"][0]) == (4, 1)
    # Before midnight the same orders were "today" and the 00:05 one did not exist yet.
    before = hourly_revenue(-480, now=datetime(2026, 3, 10, 7, 55))
    assert before["today"][23] == 3 and sum(before["yesterday"]) == 0


# -- the outbox --------------------------------------------------------------------------


def test_changes_are_announced_after_commit_only(ctx, shop):
    heard = []

    def listener(app, changes):
        heard.append([dict(c) for c in changes])

    outbox.committed.connect(listener)
    try:
        outbox.record({"type": "revoke", "user_id": 1, "session_id": None, "reason": "t"})
        db.session.rollback()
        assert heard == [], "a rollback drops what was recorded"
        _order(shop.alice.id, 10, datetime(2026, 3, 10, 9, 0))
        assert [c["type"] for c in heard[-1]] == ["orders"]
        version = heard[-1][0]["version"]
        total = sa.text("SELECT version FROM order_versions WHERE id = 1")
        assert version == db.session.scalar(total)
    finally:
        outbox.committed.disconnect(listener)


def test_a_rolled_back_savepoint_drops_only_its_own_changes(ctx, shop):
    heard = []

    def listener(app, changes):
        heard.append(changes)

    outbox.committed.connect(listener)
    try:
        outbox.record({"type": "revoke", "user_id": 1, "session_id": "a", "reason": "outer"})
        savepoint = db.session.begin_nested()
        outbox.record({"type": "revoke", "user_id": 1, "session_id": "b", "reason": "inner"})
        savepoint.rollback()
        inner_kept = db.session.begin_nested()
        outbox.record({"type": "revoke", "user_id": 1, "session_id": "c", "reason": "kept"})
        inner_kept.commit()
        assert heard == [], "releasing a savepoint is not the commit"
        db.session.commit()
        assert [c["session_id"] for c in heard[0]] == ["a", "c"]
    finally:
        outbox.committed.disconnect(listener)

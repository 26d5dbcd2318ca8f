"""The tests' data snapshots (tests/snapshots.py): what one writes back is what its build
wrote (every table's rows, the sequences, the builder's value), with the timestamps the
build took from the clock moved to now; a database something else wrote to gets a real
build."""

from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.models import Product, User
from app.models.timestamps import utcnow
from app.services import counts
from tests import snapshots
from tests.conftest import empty_postgres_database
from tests.factories import make_order, make_user, seed_shop


def everything(app) -> dict:
    """Every table's rows and, on PostgreSQL, every sequence's next value."""
    with app.app_context(), db.engine.connect() as connection:
        state = {
            table.name: [tuple(row) for row in connection.execute(sa.select(table).order_by(
                *table.primary_key.columns))]
            for table in db.metadata.sorted_tables
        }  # fmt: skip
        if connection.dialect.name == "postgresql":
            names = connection.exec_driver_sql(
                "SELECT relname FROM pg_class WHERE relkind = 'S' ORDER BY relname"
            ).scalars()
            state["sequences"] = [
                connection.exec_driver_sql(f'SELECT last_value, is_called FROM "{n}"').one()
                for n in names
            ]
    return state


def empty_again(app) -> None:
    """The database as ``make_app`` leaves it."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            empty_postgres_database(app.config["SQLALCHEMY_DATABASE_URI"])
        else:  # no AUTOINCREMENT: an emptied table's ids start at 1 again
            for table in reversed(db.metadata.sorted_tables):
                db.session.execute(table.delete())
        counts.ensure_rows()
        db.session.commit()
        snapshots.fresh(db.engine)
        db.session.remove()


def clock_times_apart(state: dict, since: datetime) -> tuple[dict, list[datetime]]:
    """``state`` with every timestamp from ``since`` on replaced by a marker, and those
    (the clock's, and deadlines computed from it)."""
    found = []

    def mark(value):
        if isinstance(value, datetime) and value >= since:
            found.append(value)
            return "clock"
        return value

    marked = {name: [tuple(mark(v) for v in row) for row in rows] for name, rows in state.items()}
    return marked, found


def shop_with_changes(app):
    """The shop, an order, alice's credits changed and a product deleted: inserts,
    updates and deletes in several tables, and sequences moved."""
    shop = seed_shop(app)
    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        alice.credits = 5000
        make_order(alice, [(db.session.get(Product, shop.products[0].id), 2)])
        db.session.delete(db.session.get(Product, shop.products[3].id))
        db.session.commit()
        db.session.remove()
    return {"shop": shop, "note": "built"}


def test_a_snapshot_writes_back_exactly_what_its_build_wrote(app, monkeypatch):
    monkeypatch.setattr(snapshots, "_snapshots", {})  # recorded by this test
    started = utcnow()
    built = snapshots.restore_or_build(app, "changes", shop_with_changes)
    built_at = utcnow()
    real, real_times = clock_times_apart(everything(app), started)

    empty_again(app)
    written_back_at = utcnow()
    calls = []
    value = snapshots.restore_or_build(app, "changes", lambda a: calls.append(a))
    restored, restored_times = clock_times_apart(everything(app), started)

    assert calls == []  # written back, not built
    assert value == built and value is not built
    assert restored == real
    assert real["orders"] and real["order_items"] and real["order_activity"]
    # As if the build had just ended: every time moved by the time since, none apart.
    assert len(restored_times) == len(real_times) > 0
    (shift,) = {new - old for new, old in zip(restored_times, real_times, strict=True)}
    assert written_back_at - built_at <= shift <= utcnow() - started


def test_a_database_written_to_meanwhile_gets_a_real_build(app):
    seed_shop(app)  # recorded or written back: either way the next state is known
    empty_again(app)
    with app.app_context():
        make_user(username="carol")  # a write no snapshot knows of
        db.session.remove()
    shop = seed_shop(app)
    assert shop.admin.id == 2  # after carol: a real build
    with app.app_context():
        names = db.session.scalars(sa.select(User.username).order_by(User.id)).all()
        assert names == ["carol", "boss", "alice", "bob"]

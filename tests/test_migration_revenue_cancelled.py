"""The migration that adds ``revenue_buckets.cancelled`` fills it from the orders already
there, on SQLite (batch mode) and PostgreSQL, and reconcile then finds no drift."""

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db
from app.services import revenue
from app.services.status import cancel_order
from tests.factories import make_order, make_user
from tests.test_migrations_accounts import empty_url  # noqa: F401  (the fixture)

BEFORE = "f7a3c1d9e2b4"  # the head before buckets counted their cancelled orders


def test_the_cancelled_column_is_filled_from_the_orders(empty_url):  # noqa: F811
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=empty_url)
    with app.app_context():
        upgrade(directory="migrations")
        alice = make_user(username="alice", credits=1000)
        placed = datetime(2026, 3, 10, 9, 1)
        orders = [make_order(alice, now=placed + timedelta(minutes=m)) for m in (0, 3, 20)]
        for order in orders[:2]:
            cancel_order(order, "test")
        db.session.commit()
        start = revenue.bucket_of(placed)
        expected = [[start, 0, 2, 2], [start + 900, 10, 1, 0]]
        assert revenue.between(0, 2**40) == expected
        db.session.remove()  # its read would hold a lock the ALTER TABLE waits for
        downgrade(directory="migrations", revision=BEFORE)
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("revenue_buckets")}
        assert "cancelled" not in columns
        upgrade(directory="migrations")
        db.session.remove()
        assert revenue.between(0, 2**40) == expected
        assert revenue.reconcile() == {}
        db.session.remove()
        db.engine.dispose()

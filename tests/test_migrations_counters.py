"""The sharded-counters migration on SQLite (batch mode) and PostgreSQL: every counter, every
revenue bucket (its cancelled count too) and the version keep their values up, summed shards
come back as one row down, and the schema at head is what the models describe."""

import os

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db
from app.services import counts, revenue
from tests.services_required import create_postgres_database, drop_postgres_database

BEFORE = "c8e2f4a6b1d3"  # the head before counters were sharded (buckets count cancelled)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    name = f"orderpulse_migc_{os.getpid()}"
    yield create_postgres_database(name)
    drop_postgres_database(name)


def rows(sql: str) -> list[tuple]:
    return [tuple(r) for r in db.session.execute(sa.text(sql)).all()]


def test_counters_keep_their_values_up_and_down(empty_url):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=empty_url)
    with app.app_context():
        upgrade(directory="migrations", revision=BEFORE)
        db.session.execute(sa.text("UPDATE order_counts SET count = 0, version = 0"))
        db.session.execute(
            sa.text("UPDATE order_counts SET count = 12, version = 42 WHERE name = 'total'")
        )
        db.session.execute(sa.text("UPDATE order_counts SET count = 9 WHERE name = 'Pending'"))
        db.session.execute(sa.text("UPDATE order_counts SET count = 3 WHERE name = 'cancelled'"))
        db.session.execute(
            sa.text(
                "INSERT INTO revenue_buckets (bucket_start, revenue, orders, cancelled) "
                "VALUES (900, 50, 4, 1), (1800, 7, 1, 0)"
            )
        )
        db.session.commit()

        upgrade(directory="migrations")
        stats = counts.read_stats()
        assert (stats["total_orders"], stats["pending_count"], stats["cancelled_count"]) == (
            12,
            9,
            3,
        )
        assert stats["version"] == 42
        assert revenue.stored_buckets() == {900: (50, 4, 1), 1800: (7, 1, 0)}
        # Writes now land on a shard picked at random; a read sums them.
        counts.apply_delta({"total": 2, "Pending": 2})
        revenue.add_to_bucket(900, 10, 2, 1)
        db.session.commit()
        assert counts.read_stats()["total_orders"] == 14
        assert counts.read_version() == 43
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        if db.engine.dialect.name != "postgresql":  # the trigram indexes are PostgreSQL's
            diff = [d for d in diff if not (d[0] == "add_index" and d[1].name.endswith("_trgm"))]
        assert diff == []
        db.session.remove()  # no open transaction holds the tables the downgrade alters

        downgrade(directory="migrations", revision=BEFORE)
        assert "order_versions" not in sa.inspect(db.engine).get_table_names()
        counters = dict(rows("SELECT name, count FROM order_counts"))
        assert (counters["total"], counters["Pending"], counters["cancelled"]) == (14, 11, 3)
        assert rows("SELECT version FROM order_counts WHERE name = 'total'") == [(43,)]
        assert sorted(
            rows("SELECT bucket_start, revenue, orders, cancelled FROM revenue_buckets")
        ) == [(900, 60, 6, 2), (1800, 7, 1, 0)]
        db.session.remove()

        upgrade(directory="migrations")
        assert counts.read_stats()["total_orders"] == 14
        assert counts.read_version() == 43
        assert revenue.stored_buckets() == {900: (60, 6, 2), 1800: (7, 1, 0)}
        db.session.remove()
        db.engine.dispose()

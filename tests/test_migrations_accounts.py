"""The session-expiry and search-index migrations upgrade and downgrade on SQLite (batch
mode) and PostgreSQL (where the pg_trgm indexes are made), and leave the schema the models
describe (``flask db check``'s comparison)."""

import os

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db
from tests.services_required import create_postgres_database, drop_postgres_database

BEFORE = "e2b8d4c6a915"  # the head before sessions expired


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    name = f"orderpulse_mig_{os.getpid()}"
    yield create_postgres_database(name)
    drop_postgres_database(name)


def indexes(table: str) -> set[str]:
    return {ix["name"] for ix in sa.inspect(db.engine).get_indexes(table)}


def test_upgrade_downgrade_upgrade(empty_url):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=empty_url)
    with app.app_context():
        upgrade(directory="migrations")
        postgres = db.engine.dialect.name == "postgresql"
        assert "ix_order_items_product_id" in indexes("order_items")
        assert ("ix_orders_order_number_trgm" in indexes("orders")) is postgres
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("user_sessions")}
        assert "last_seen_at" in columns
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        if not postgres:  # the trigram indexes are PostgreSQL's alone
            diff = [d for d in diff if not (d[0] == "add_index" and d[1].name.endswith("_trgm"))]
        assert diff == []
        downgrade(directory="migrations", revision=BEFORE)
        assert "rate_limit_counters" not in sa.inspect(db.engine).get_table_names()
        upgrade(directory="migrations")
        assert "rate_limit_counters" in sa.inspect(db.engine).get_table_names()
        db.session.remove()
        db.engine.dispose()

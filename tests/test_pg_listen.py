"""PostgreSQL ``LISTEN/NOTIFY`` on the real server: a commit from another process (the CLI)
becomes an ``event: order`` frame on a dashboard with no Redis, and the listener survives
``pg_terminate_backend`` and resyncs. PostgreSQL only, so these run once."""

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from prometheus_client import REGISTRY

from app import create_app
from app.extensions import db
from app.models import User
from app.realtime.backends import PostgresBackend
from app.services.counts import ensure_rows
from tests.factories import make_order, seed_shop
from tests.helpers import SSEStream, data, logged_in_client, message, order_event, wait_until
from tests.services_required import (
    POSTGRES_ADMIN_URL,
    create_postgres_database,
    drop_postgres_database,
)

pytestmark = pytest.mark.services
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def pg(request):
    """``(app, url, shop)``: an app on a PostgreSQL database of its own, with the version
    poll slowed to a minute, so anything that arrives sooner came through NOTIFY. Its streams
    live a minute (the testing config's lifetime, stated here because it matters: a CLI
    process started on a loaded machine takes seconds to commit)."""
    name = f"orderpulse_listen_{uuid.uuid4().hex[:12]}"
    url = create_postgres_database(name)
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=url,
        HUB_VERSION_POLL_SECONDS=60,
        SSE_LIFETIME_SECONDS=60,
    )
    with app.app_context():
        db.create_all()
        ensure_rows()
        db.session.commit()
    shop = seed_shop(app)
    streams = []
    yield app, url, shop, streams
    for stream in streams:
        stream.close()
    app.extensions["realtime"].stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    drop_postgres_database(name)


def admin_stream(app, shop, streams) -> SSEStream:
    client = logged_in_client(app, shop.admin.username)
    stream = SSEStream(client.get("/admin/orders/stream", buffered=False))
    streams.append(stream)
    stream.wait_for(message("initial"), timeout=3)
    return stream


def listeners(database: str) -> list[int]:
    admin = POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s "
            "AND application_name = 'orderpulse-listen'",
            (database,),
        ).fetchall()
    return [pid for (pid,) in rows]


def test_a_cli_commit_arrives_as_an_order_event(pg):
    app, url, shop, streams = pg
    assert isinstance(app.extensions["realtime"].backend, PostgresBackend)
    stream = admin_stream(app, shop, streams)
    database = url.rsplit("/", 1)[1]
    wait_until(lambda: listeners(database), what="the worker's listener")
    env = {
        **os.environ,
        "ORDERPULSE_CONFIG": "development",
        "SECRET_KEY": "x" * 40,
        "DATABASE_URL": url,
        "FLASK_APP": "wsgi.py",
    }
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "flask", "simulate-orders", "--rate", "50", "--duration", "0.3"]
        + ["--seed", "7"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    placed = re.findall(r"placed (ORD-\d{8}-\d+)", result.stdout)
    assert placed, result.stdout
    seen = set()
    while not set(placed) <= seen:
        event = data(stream.wait_for(order_event("created"), timeout=5))
        seen.add(event["order"]["order_number"])
        assert event["activity"]["order_number"] == event["order"]["order_number"]


def test_the_listener_survives_pg_terminate_backend(pg):
    app, url, shop, streams = pg
    stream = admin_stream(app, shop, streams)
    database = url.rsplit("/", 1)[1]
    [victim] = wait_until(lambda: listeners(database), what="the worker's listener")
    before = REGISTRY.get_sample_value(
        "orderpulse_backend_reconnects_total", {"backend": "postgres"}
    )
    admin = POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (victim,))
    # Committed while the listener is gone: only its resync can bring this one.
    with app.app_context():
        order = make_order(db.session.get(User, shop.alice.id))
        number = order.order_number
        db.session.remove()
    event = data(stream.wait_for(order_event("created"), timeout=10))
    assert event["order"]["order_number"] == number
    after = REGISTRY.get_sample_value(
        "orderpulse_backend_reconnects_total", {"backend": "postgres"}
    )
    assert after >= (before or 0) + 1
    back = wait_until(lambda: listeners(database), what="a new listener")
    assert victim not in back

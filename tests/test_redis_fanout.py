"""Redis fan-out between two app instances (two "workers") sharing one database."""

import time

import pytest
import redis
from prometheus_client import REGISTRY

from app import create_app
from app.extensions import db
from app.models import Product, User
from app.realtime.backends import RedisBackend
from app.services import accounts
from app.services.counts import ensure_rows, read_stats
from app.services.orders import parse_checkout, place_order
from tests.helpers import SSEStream, wait_until
from tests.services_required import redis_url

pytestmark = pytest.mark.services


def _make_app(db_uri: str, url: str, channel: str, poll_seconds: float):
    # A long version poll proves delivery came through Redis, not the database check.
    return create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=db_uri,
        REDIS_URL=url,
        REDIS_CHANNEL=channel,
        HUB_VERSION_POLL_SECONDS=poll_seconds,
        SSE_HEARTBEAT_SECONDS=0.1,
    )


@pytest.fixture
def pair(tmp_path):
    url = redis_url()
    uri = f"sqlite:///{tmp_path / 'shared.db'}"
    channel = f"orderpulse:test:{time.monotonic_ns()}"
    writer = _make_app(uri, url, channel, 60)
    reader = _make_app(uri, url, channel, 60)
    with writer.app_context():
        db.create_all()
        ensure_rows()
        accounts.create_user("boss", "boss@example.com", "password1", role="admin")
        accounts.create_user("buyer", "buyer@example.com", "password1", credits=10_000)
        db.session.add(Product(name="Tea", category="Drinks", credit_value=5))
        db.session.commit()
    yield writer, reader
    for app in (writer, reader):
        app.extensions["realtime"].stop()
        with app.app_context():
            db.engine.dispose()


def _place(app) -> int:
    with app.app_context():
        buyer = db.session.scalar(db.select(User).where(User.username == "buyer"))
        place_order(buyer, parse_checkout([{"product_id": 1, "quantity": 1}], "pickup", None))
        db.session.commit()
        return read_stats()["version"]


def _read_until(stream: SSEStream, predicate, timeout: float = 2.0) -> list[dict]:
    """The frames read until one matches ``predicate`` (that one included); fail after
    ``timeout`` seconds."""
    start = len(stream.seen)
    stream.wait_for(predicate, timeout)
    return stream.seen[start:]


def _wait_subscribed(app) -> None:
    """The subscriber thread starts with the first stream; wait until Redis lists it."""
    backend = app.extensions["realtime"].backend
    wait_until(
        lambda: dict(backend.client.pubsub_numsub(backend.channel)).get(backend.channel.encode()),
        what="the Redis subscriber on its channel",
        every=0.01,
    )


def _admin_stream(app):
    client = app.test_client()
    client.post("/auth/login", data={"username": "boss", "password": "password1"})
    response = client.get("/admin/orders/stream", buffered=False)
    assert response.status_code == 200
    return SSEStream(response)


def test_order_committed_in_one_worker_reaches_stream_in_another(pair):
    writer, reader = pair
    assert isinstance(reader.extensions["realtime"].backend, RedisBackend)
    stream = _admin_stream(reader)
    try:
        _read_until(stream, lambda f: f.get("id") == "0")
        _wait_subscribed(reader)
        version = _place(writer)
        seen = _read_until(stream, lambda f: f.get("id") == str(version))
        kinds = [f["event"] for f in seen]
        assert "order" in kinds, "the order event travels through Redis too"
    finally:
        stream.close()


def _reconnects() -> float:
    return REGISTRY.get_sample_value("orderpulse_backend_reconnects_total", {"backend": "redis"})


def test_subscriber_reconnects_and_resyncs_after_redis_drops_it(pair):
    writer, reader = pair
    reconnects = _reconnects() or 0
    stream = _admin_stream(reader)
    try:
        _read_until(stream, lambda f: f.get("id") == "0")
        _wait_subscribed(reader)
        killed = redis.Redis.from_url(redis_url()).client_kill_filter(_type="pubsub")
        assert killed >= 1
        # Published while the subscriber is away: only the resync can bring this one.
        version = _place(writer)
        _read_until(stream, lambda f: f.get("id") == str(version), timeout=5)
        assert _reconnects() >= reconnects + 1
    finally:
        stream.close()

"""One contract, three backends (``app.realtime.backends.Backend``): the same tests run
against the in-process backend, Redis pub/sub and PostgreSQL ``LISTEN/NOTIFY``, on the real
servers. Two apps sharing a database and a channel stand for two workers (the local backend
has one worker by definition: both roles are the same app). The version poll is slowed to a
minute, so whatever arrives sooner came through the backend."""

import uuid

import psycopg
import pytest
import redis
import sqlalchemy as sa
from prometheus_client import REGISTRY

from app import create_app
from app.extensions import db
from app.models import Product, User
from app.realtime.backends import MAX_PAYLOAD_BYTES, Backend, encode
from app.services import outbox, sessions
from app.services.counts import ensure_rows
from app.services.orders import parse_checkout, place_order
from tests.conftest import empty_postgres_database
from tests.factories import make_user, seed_shop
from tests.helpers import SSEStream, data, login, message, order_event, wait_until
from tests.presence_helpers import has_admin, lacks_admin
from tests.services_required import (
    POSTGRES_ADMIN_URL,
    create_postgres_database,
    drop_postgres_database,
    redis_url,
)

pytestmark = pytest.mark.services
KINDS = ["local", "redis", "postgres"]


@pytest.fixture(scope="module")
def pg_database():
    name = f"orderpulse_conformance_{uuid.uuid4().hex[:10]}"
    url = create_postgres_database(name)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    yield url
    drop_postgres_database(name)


class Cluster:
    """``writer`` and ``reader``: two workers (one app for ``local``); ``drop()`` cuts the
    reader's listening connection as a network fault or a server restart would."""

    def __init__(self, kind: str, apps: list, database: str):
        self.kind, self.apps, self.database = kind, apps, database
        self.writer, self.reader = apps[0], apps[-1]
        self.streams: list[SSEStream] = []

    def client(self, app, username: str):
        client = app.test_client()
        login(client, username, "password123")
        return client

    def same_session_on(self, client, app):
        """A client of ``app`` holding ``client``'s cookies: one browser, another worker."""
        other = app.test_client()
        for cookie in client._cookies.values():
            other.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
        return other

    def dashboard(self, client, query: str = "") -> SSEStream:
        stream = SSEStream(client.get("/admin/orders/stream" + query, buffered=False))
        self.streams.append(stream)
        assert stream.response.status_code == 200
        stream.wait_for(message("initial"), timeout=5)
        return stream

    def listening(self, app=None) -> None:
        backend = (app or self.reader).extensions["realtime"].backend
        wait_until(backend.is_listening, what=f"the {self.kind} backend listening")

    def place(self, app, commit: bool = True) -> str:
        with app.app_context():
            buyer = db.session.scalar(sa.select(User).where(User.username == "alice"))
            product = db.session.scalar(sa.select(Product).limit(1))
            items = parse_checkout([{"product_id": product.id, "quantity": 1}], "pickup", None)
            order = place_order(buyer, items)
            number = order.order_number
            db.session.commit() if commit else db.session.rollback()
            db.session.remove()
        return number

    def drop(self) -> None:
        backend = self.reader.extensions["realtime"].backend
        if self.kind == "redis":
            admin = redis.Redis.from_url(redis_url())
            for client in admin.client_list(_type="pubsub"):
                if client["name"] == backend.client_name:
                    admin.client_kill_filter(_id=client["id"])
        elif self.kind == "postgres":
            conninfo = POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://", 1)
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s"
                    " AND application_name = 'orderpulse-listen'",
                    (self.database.rsplit("/", 1)[1],),
                )


@pytest.fixture(params=KINDS)
def cluster(request, tmp_path):
    kind = request.param
    suffix = uuid.uuid4().hex[:10]
    config = {
        "REALTIME_BACKEND": kind,
        "HUB_VERSION_POLL_SECONDS": 60,
        "SSE_LIFETIME_SECONDS": 60,
        "SSE_MAX_STREAMS_PER_USER": 50,
        "SESSION_MAX_PER_USER": 1000,  # one test opens 300 sessions of one user
        # Only the backend's messages may end a stream here: the periodic re-validation
        # could find an ended session first and close it with "ended", not the reason sent.
        "SSE_REVALIDATE_SECONDS": 3600,
    }
    if kind == "postgres":
        database = request.getfixturevalue("pg_database")
        config["PG_NOTIFY_CHANNEL"] = f"orderpulse_conformance_{suffix}"
    else:
        database = f"sqlite:///{tmp_path / 'shared.db'}"
    if kind == "redis":
        config.update(REDIS_URL=redis_url(), REDIS_CHANNEL=f"orderpulse:conformance:{suffix}")
    apps = [
        create_app("testing", SQLALCHEMY_DATABASE_URI=database, **config)
        for _ in range(1 if kind == "local" else 2)
    ]
    with apps[0].app_context():
        if kind == "postgres":
            empty_postgres_database(database)
        else:
            db.create_all()
        ensure_rows()
        db.session.commit()
    seed_shop(apps[0])
    with apps[0].app_context():
        make_user("admin", credits=0, username="maria")
    found = Cluster(kind, apps, database)
    yield found
    for stream in found.streams:
        stream.close()
    for app in apps:
        app.extensions["realtime"].stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_each_backend_declares_the_contract(cluster):
    for app in cluster.apps:
        backend = app.extensions["realtime"].backend
        assert isinstance(backend, Backend)
        assert backend.name == cluster.kind
        backend.ping()


def test_a_commit_reaches_the_dashboards_of_every_worker(cluster):
    stream = cluster.dashboard(cluster.client(cluster.reader, "boss"))
    cluster.listening()
    number = cluster.place(cluster.writer)
    event = data(stream.wait_for(order_event("created"), timeout=5))
    assert event["order"]["order_number"] == number
    assert event["activity"]["order_number"] == number


def test_only_what_commits_is_announced(cluster):
    """``notify_in_transaction`` (PostgreSQL) and ``publish`` after commit (the others): a
    rolled-back order never reaches a dashboard, the next committed one does."""
    stream = cluster.dashboard(cluster.client(cluster.reader, "boss"))
    cluster.listening()
    cluster.place(cluster.writer, commit=False)
    number = cluster.place(cluster.writer)
    first = data(stream.wait_for(order_event("created"), timeout=5))
    assert first["order"]["order_number"] == number


def test_a_commit_made_while_the_listener_is_away_arrives_after_it_resyncs(cluster):
    stream = cluster.dashboard(cluster.client(cluster.reader, "boss"))
    cluster.listening()
    before = reconnects(cluster.kind)
    cluster.drop()
    number = cluster.place(cluster.writer)
    event = data(stream.wait_for(order_event("created"), timeout=15))
    assert event["order"]["order_number"] == number
    cluster.listening()
    if cluster.kind != "local":  # the only one with a connection to lose
        assert reconnects(cluster.kind) >= before + 1


def reconnects(kind: str) -> float:
    labels = {"backend": kind}
    return REGISTRY.get_sample_value("orderpulse_backend_reconnects_total", labels) or 0


def test_presence_travels_between_workers(cluster):
    """An admin's dashboard on one worker, her dialog announced through another: the
    dashboards of every worker show both, and her leaving."""
    watcher = cluster.dashboard(cluster.client(cluster.reader, "boss"))
    cluster.listening()
    maria = cluster.client(cluster.writer, "maria")
    hers = cluster.dashboard(maria)
    watcher.wait_for(has_admin("maria", order_id=None), timeout=5)
    order_id = int(cluster.place(cluster.writer).rsplit("-", 1)[1])
    same_browser = cluster.same_session_on(maria, cluster.reader)
    answer = same_browser.post(
        "/admin/api/presence", json={"order_id": order_id, "action": "cancelling"}
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    entry = watcher.wait_for(has_admin("maria", order_id=order_id, action="cancelling"), 5)
    assert data(entry)["admins"][0]["username"] in ("boss", "maria")
    hers.close()
    watcher.wait_for(lacks_admin("maria"), timeout=5)


# The local backend has one process: a dead worker takes every dashboard with it.
@pytest.mark.parametrize("cluster", ["redis", "postgres"], indirect=True)
def test_presence_of_a_worker_that_stops_renewing_expires(cluster):
    """A worker that dies says no goodbye: its entries go when their TTL passes."""
    watcher = cluster.dashboard(cluster.client(cluster.reader, "boss"))
    cluster.listening()
    cluster.dashboard(cluster.client(cluster.writer, "maria"))
    watcher.wait_for(has_admin("maria"), timeout=5)
    cluster.writer.extensions["realtime"].stop(close_streams=False)  # no "gone" is sent
    watcher.wait_for(lacks_admin("maria"), timeout=5)


def test_a_revoke_ends_the_session_s_streams_on_every_worker(cluster):
    maria = cluster.client(cluster.writer, "maria")
    stream = cluster.dashboard(cluster.same_session_on(maria, cluster.reader))
    bystander = cluster.dashboard(cluster.client(cluster.reader, "maria"))
    cluster.listening()
    maria.post("/auth/logout")
    assert data(stream.wait_for(lambda f: f["event"] == "revoked", timeout=5)) == {
        "reason": "logout"
    }
    bystander.wait_for(lambda f: f["event"] == "heartbeat", timeout=2)
    assert not any(f["event"] == "revoked" for f in bystander.seen)


def test_ending_hundreds_of_sessions_is_one_constant_size_message(cluster):
    """A password change that ends 300 sessions (ids of 43 characters each: a list of them
    would pass PostgreSQL's 8,000-byte NOTIFY limit) records one revoke naming the user and
    the session to keep (docs/design.md §5b), and every worker ends the others' streams."""
    stream = cluster.dashboard(cluster.client(cluster.reader, "maria"))
    cluster.listening()
    recorded = []

    def spy(_session, changes):
        recorded.extend(changes)

    with cluster.writer.app_context(), outbox.committing.connected_to(spy):
        maria = db.session.scalar(sa.select(User).where(User.username == "maria"))
        kept = sessions.start(maria).id
        for _ in range(300):
            sessions.start(maria)
        db.session.commit()
        # The 300, and the session of the stream.
        assert sessions.end_all(maria.id, "password", keep=kept) == 301
        db.session.commit()
        db.session.remove()
    assert data(stream.wait_for(lambda f: f["event"] == "revoked", timeout=5)) == {
        "reason": "password"
    }
    [revoke] = [change for change in recorded if change["type"] == "revoke"]
    assert revoke["keep"] == kept and revoke["session_id"] is None
    assert len(encode([revoke]).encode()) < 300 < MAX_PAYLOAD_BYTES

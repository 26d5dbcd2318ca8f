"""Faults under load: Redis stopped and restarted under an open
stream, PostgreSQL connections killed mid-checkout, a worker SIGKILLed mid-stream. After
each, ``order_counts`` equals a recount, balances add up, and the client's last version is
the server's (never ahead of it).

Figures printed with ``-s`` (``RELIABILITY ...`` lines) feed the README's reliability line.
"""

import collections
import http.client
import os
import signal
import threading
import time

import psycopg
import pytest

from tests.helpers import wait_until
from tests.reliability_helpers import check_books, make_customers, pickup_order
from tests.servers import Session, StreamReader
from tests.services_required import POSTGRES_ADMIN_URL

pytestmark = [pytest.mark.server, pytest.mark.services]


class Follower:
    """What EventSource does, in a thread: read frames, remember the last ``id:`` (version)
    and reconnect with ``Last-Event-ID`` whenever the stream ends or breaks."""

    def __init__(self, session: Session):
        self.session = session
        self.last_id: int | None = None
        self.reconnects = 0
        self.heartbeats = 0
        self.worker_pid = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Follower":
        self._thread.start()
        wait_until(lambda: self.last_id is not None, what="the first snapshot")
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                stream = StreamReader(self.session, last_id=self.last_id)
            except OSError:
                time.sleep(0.1)
                continue
            self.worker_pid = stream.worker_pid
            while not self._stop.is_set() and not stream.ended:
                try:
                    # Above the 0.5 s heartbeat: a read that times out leaves http.client's
                    # file object unusable, so a timeout here means a stalled stream.
                    frames = stream.next_frames(2.0)
                except (OSError, ValueError, http.client.HTTPException) as exc:
                    self.errors.append(repr(exc))
                    break  # a connection cut mid-chunk (a killed worker) is an end too
                for frame in frames:
                    if frame.get("id") is not None:
                        self.last_id = int(frame["id"])
                    if frame.get("comment") == "heartbeat":
                        self.heartbeats += 1
            stream.close()
            self.reconnects += 1

    def catches_up(self, version: int, why: str = "") -> float:
        """Seconds until the client has ``version`` (AssertionError if it never does)."""
        started = time.monotonic()
        wait_until(lambda: self.last_id == version, what=f"the client on version {version} {why}")
        return time.monotonic() - started


def server_version(admin: Session) -> int:
    return admin.stats()["version"]


def server_on_private_redis(shared_db, servers, private_redis, workers: int = 1):
    """A server on the test's own Redis, with the admin and a buyer logged in. The version
    poll is far away: only Redis (and the subscriber's resync) can move the streams."""
    url, shop = shared_db
    server = servers(
        url,
        workers=workers,
        REDIS_URL=private_redis.url,
        REDIS_CHANNEL="orderpulse:faults",
        HUB_VERSION_POLL_SECONDS="60",
    )
    admin = Session(server.base, shop.admin.username, shop.password)
    buyer = Session(server.base, shop.alice.username, shop.password)
    return server, shop, admin, buyer


def test_streams_survive_a_redis_restart_and_resync(shared_db, servers, private_redis):
    server, shop, admin, buyer = server_on_private_redis(shared_db, servers, private_redis)
    with Follower(admin) as client:
        buyer.place_order(shop.products[0].id)
        client.catches_up(server_version(admin), "(Redis delivers)")

        private_redis.stop()
        down_since = time.monotonic()
        heartbeats, reconnects = client.heartbeats, client.reconnects
        for _ in range(3):  # the customer never notices: the order commits, publish is logged
            buyer.place_order(shop.products[1].id)
        while_down = server_version(admin)
        wait_until(lambda: client.heartbeats >= heartbeats + 2, what="heartbeats going on")
        assert client.reconnects == reconnects, f"the stream stayed open; {client.errors}"
        assert client.last_id < while_down, "nothing reached the stream without Redis"
        down_for = time.monotonic() - down_since

        private_redis.start()
        took = client.catches_up(while_down, "(counts right after Redis returned)")
        assert client.reconnects == reconnects, "the same stream, no client action"
        assert client.last_id <= server_version(admin)
    stats = check_books(shared_db[0])
    assert stats["version"] == while_down and stats["total_orders"] == 4
    print(
        f"\nRELIABILITY redis: down {down_for:.1f} s, 3 orders committed meanwhile; "
        f"stream right {took:.1f} s after Redis restarted (subscriber backoff)"
    )


def terminate_backends(dbname: str) -> int:
    conninfo = POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=2) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (dbname,),
        ).fetchall()
    return len(rows)


def test_killed_database_connections_fail_cleanly_and_recover(shared_db, servers):
    url, shop = shared_db
    starts = make_customers(url, "steady", [10_000] * 4)
    server = servers(url, workers=2)
    admin = Session(server.base, shop.admin.username, shop.password)
    buyers = [Session(server.base, name, shop.password) for name in starts]
    statuses: collections.Counter = collections.Counter()
    bad: list[tuple[int, str]] = []
    stop = threading.Event()

    def shop_in_a_loop(buyer: Session, product_id: int) -> None:
        while not stop.is_set():
            try:
                status, text = buyer.request(
                    "POST", "/api/orders", json_body=pickup_order(product_id)
                )
            except OSError as exc:  # the server must answer, not drop the connection
                status, text = -1, repr(exc)
            statuses[status] += 1
            if status not in (201, 503) or (status == 503 and "Database unavailable" not in text):
                bad.append((status, text[:300]))

    threads = [
        threading.Thread(target=shop_in_a_loop, args=(b, shop.products[i].id), daemon=True)
        for i, b in enumerate(buyers)
    ]
    for thread in threads:
        thread.start()
    with Follower(admin) as client:
        killed = 0
        for _ in range(6):
            time.sleep(0.3)
            killed += terminate_backends(url.rsplit("/", 1)[1])
        before_recovery = statuses[201]
        wait_until(lambda: statuses[201] >= before_recovery + 20, what="20 more orders")
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
        assert not bad, f"only 201 or 503 'Database unavailable': {bad[:5]}"
        version = server_version(admin)
        client.catches_up(version, "(the stream carries on)")
        assert client.last_id <= version
    stats = check_books(url, starts)
    assert stats["total_orders"] >= statuses[201]  # a 503 at COMMIT may still have committed
    print(
        f"\nRELIABILITY pg_terminate_backend: 6 rounds, {killed} backends killed under "
        f"4 looping clients: {dict(statuses)}; books balanced"
    )


def test_a_worker_killed_mid_stream_is_replaced_and_the_client_resyncs(
    shared_db, servers, private_redis
):
    server, shop, admin, buyer = server_on_private_redis(
        shared_db, servers, private_redis, workers=2
    )
    with Follower(admin) as client:
        buyer.place_order(shop.products[0].id)
        client.catches_up(server_version(admin))
        victim, reconnects = client.worker_pid, client.reconnects
        assert victim in server.worker_pids()
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        for i in range(3):
            buyer.place_order(shop.products[i].id)
        wait_until(lambda: client.reconnects > reconnects, what="the client to reconnect")
        version = server_version(admin)
        client.catches_up(version, "(resynced to the server's version)")
        resynced = time.monotonic() - killed_at
        assert client.last_id <= server_version(admin)
        wait_until(
            lambda: len(server.worker_pids()) == 2 and victim not in server.worker_pids(),
            what="gunicorn to replace the killed worker",
        )
    stats = check_books(shared_db[0])
    assert stats["total_orders"] == 4
    print(
        f"\nRELIABILITY SIGKILL: client back on version {version} {resynced:.1f} s after "
        f"the kill ({client.reconnects} reconnects)"
    )

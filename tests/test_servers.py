"""Cross-process behaviour on real gunicorn gevent servers, PostgreSQL and Redis: every
stream sees every order, whichever worker or host committed it, and a graceful reload of
the master loses no update.

The tests that neither restart a server nor count from an empty shop share two hosts on one
database and Redis channel (``hosts``): each compares with the version it read after its
own order. The reload has a server and a database of its own."""

import threading
import time
import urllib.request

import pytest

from tests.helpers import wait_until
from tests.server_fixtures import redis_env
from tests.servers import GunicornServer, Session, StreamReader, has_version

pytestmark = [pytest.mark.server, pytest.mark.services]


def streams_on_every_worker(server, admin, want: int, attempts: int = 80) -> list:
    """Open streams until each of ``want`` workers serves at least one (the kernel picks
    the worker that accepts); extra streams are kept too."""
    streams = []
    for _ in range(attempts):
        streams.append(StreamReader(admin))
        if len({s.worker_pid for s in streams}) >= want:
            return streams
    pids = {s.worker_pid for s in streams}
    pytest.fail(f"streams reached only {len(pids)} of {want} workers after {attempts} tries")


@pytest.fixture(scope="module")
def hosts(module_db, module_servers, tmp_path_factory):
    """``(host_a, host_b, shop)``: two hosts on one database and Redis channel; A has four
    workers, B one whose heartbeat is a minute away (a test of B's needs that; the others
    read no heartbeat)."""
    url, shop = module_db
    env = redis_env(tmp_path_factory.mktemp("hosts"))
    # Up to 80 tries may land more than the default 10 streams of one user on a worker (429).
    host_a = module_servers(url, workers=4, SSE_MAX_STREAMS_PER_USER="100", **env)
    host_b = module_servers(url, SSE_HEARTBEAT_SECONDS="60", **env)
    return host_a, host_b, shop


def test_an_order_reaches_streams_on_all_four_workers(hosts):
    server, _, shop = hosts
    admin = Session(server.base, shop.admin.username, shop.password)
    streams = streams_on_every_worker(server, admin, want=4)
    try:
        for stream in streams:
            stream.wait_for(lambda f: f.get("id") is not None)  # the snapshot
        buyer = Session(server.base, shop.alice.username, shop.password)
        buyer.place_order(shop.products[0].id)
        version = admin.stats()["version"]
        seen = {s.wait_for(has_version(version), timeout=3)["id"] for s in streams}
        assert seen == {str(version)}, "every worker's streams carry the same version"
        assert {s.worker_pid for s in streams} <= server.worker_pids()
    finally:
        for stream in streams:
            stream.close()


def test_an_order_on_one_host_reaches_streams_on_another(hosts):
    host_a, host_b, shop = hosts
    watch_a = StreamReader(Session(host_a.base, shop.admin.username, shop.password))
    watch_b = StreamReader(Session(host_b.base, shop.admin.username, shop.password))
    try:
        for stream in (watch_a, watch_b):
            stream.wait_for(lambda f: f.get("id") is not None)
        buyer = Session(host_a.base, shop.alice.username, shop.password)
        order = buyer.place_order(shop.products[0].id)
        version = Session(host_b.base, shop.admin.username, shop.password).stats()["version"]
        for stream in (watch_a, watch_b):
            stream.wait_for(has_version(version), timeout=3)
            event = stream.wait_for(lambda f: f.get("event") == "order")
            assert order["order_number"] in event["data"]
    finally:
        watch_a.close()
        watch_b.close()


def test_a_graceful_reload_loses_no_update(shared_db, servers, tmp_path):
    url, shop = shared_db
    server = servers(url, workers=2, **redis_env(tmp_path))
    admin = Session(server.base, shop.admin.username, shop.password)
    buyer = Session(server.base, shop.alice.username, shop.password)
    latest = {"id": None, "stats": None, "reconnects": 0}
    stop = threading.Event()

    def follow():  # what EventSource does: reconnect with Last-Event-ID after every end
        while not stop.is_set():
            try:
                stream = StreamReader(admin, last_id=latest["id"])
            except OSError:
                time.sleep(0.1)
                continue
            while not stop.is_set() and not stream.ended:
                try:
                    frames = stream.next_frames(0.2)
                except OSError:
                    break
                for frame in frames:
                    if frame.get("id") is not None:
                        latest["id"] = frame["id"]
            stream.close()
            latest["reconnects"] += 1

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    try:
        old_workers = server.worker_pids()
        for i in range(12):
            buyer.place_order(shop.products[i % 4].id)
            if i == 4:
                server.hup()
            time.sleep(0.1)
        wait_until(lambda: not server.worker_pids() & old_workers, what="the old workers gone")
        buyer.place_order(shop.products[0].id)
        truth = admin.stats()
        wait_until(
            lambda: latest["id"] == str(truth["version"]),
            what=f"the client on the server's version {truth['version']}",
        )
        assert truth["total_orders"] == 13
        assert latest["reconnects"] >= 1, "the reload ended the old stream"
    finally:
        stop.set()
        reader.join(timeout=5)


def open_streams_metric(server: GunicornServer) -> float:
    with urllib.request.urlopen(f"{server.base}/metrics", timeout=5) as response:
        text = response.read().decode()
    line = next(x for x in text.splitlines() if x.startswith("orderpulse_open_streams "))
    return float(line.split()[1])


def test_a_client_that_leaves_is_forgotten_before_the_next_heartbeat(hosts):
    # Host B's heartbeat is far away: only noticing the closed socket itself can free a
    # stream. The streams of the tests before this one went the same way.
    _, server, shop = hosts
    wait_until(lambda: open_streams_metric(server) == 0, what="no open stream at first")
    admin = Session(server.base, shop.admin.username, shop.password)
    stream = StreamReader(admin)
    stream.wait_for(lambda f: f.get("id") is not None)
    assert open_streams_metric(server) == 1
    stream.close()
    wait_until(lambda: open_streams_metric(server) == 0, what="no open stream")

"""Orders are money: concurrent checkouts and double
submits through real gunicorn gevent workers on PostgreSQL never lose, double or mis-count
an order; clients that stop reading neither delay the others nor grow server memory.

Figures printed with ``-s`` (``RELIABILITY ...`` lines) feed the README's reliability line.
The three checkout tests share one two-worker server and its database (``shop_server``):
each has customers of its own and counts the orders it made from the total it read first.
"""

import collections
import socket
import threading
import time
import urllib.request

import psutil
import pytest

from tests.helpers import scaled, wait_until
from tests.reliability_helpers import (
    CLEAN_REFUSALS,
    check_books,
    checkout_form_key,
    login_all,
    make_customers,
    percentile,
    pickup_order,
    send_all,
)
from tests.servers import USER_AGENT, Session, StreamReader

pytestmark = [pytest.mark.server, pytest.mark.services]

# Five checkouts per customer at once, 25 credits each: 500 from 100 customers under
# ORDERPULSE_TEST_SCALE=full; throughput is bench/checkout_bench.py's.
CUSTOMERS = scaled(10, 100)
CHECKOUTS = 5 * CUSTOMERS


@pytest.fixture(scope="module")
def shop_server(module_db, module_servers):
    """``(server, url, shop)``: two workers, room for every checkout's connection at once."""
    url, shop = module_db
    return module_servers(url, workers=2, WORKER_CONNECTIONS="1000"), url, shop


def test_concurrent_checkouts_from_many_customers(shop_server):
    server, url, shop = shop_server
    # Sourdough 6 and honey 11 credits: 25 credits buy 2 to 4 of a customer's 5 checkouts,
    # so some run short of credits while others race them for the same balance.
    cheap, dear = shop.products[0], shop.products[3]
    starts = make_customers(url, "crowd", [25] * CUSTOMERS)
    before = check_books(url)["total_orders"]
    sessions = login_all(server.base, list(starts))
    calls = [
        (
            sessions[f"crowd{i % CUSTOMERS}"],
            "POST",
            "/api/orders",
            {"json": pickup_order(cheap.id if i % 3 else dear.id)},
        )
        for i in range(CHECKOUTS)
    ]
    replies = send_all(calls, timeout=60)

    by_status = collections.Counter(r.status for r in replies)
    unclear = [
        (r.status, r.text[:200])
        for r in replies
        if r.status != 201
        and (r.status not in CLEAN_REFUSALS or not r.body or r.body.get("success") is not False)
    ]
    assert not unclear, f"every refusal is a clear 4xx/503 JSON: {unclear[:5]}"
    short = [r for r in replies if r.status == 422]
    assert short, "some customers ran out of credits"
    assert all("Not enough credits" in r.body["error"] for r in short), short[0].text
    created = [r.body["order"] for r in replies if r.status == 201]
    assert len({o["order_number"] for o in created}) == len(created)

    stats = check_books(url, starts)
    assert stats["total_orders"] - before == len(created), "every 201 is an order, and only those"
    seconds = [r.seconds for r in replies]
    print(
        f"\nRELIABILITY checkout: {CHECKOUTS} at once from {CUSTOMERS} customers: "
        f"{dict(by_status)}; request p50 {percentile(seconds, 50) * 1000:.0f} ms, "
        f"p99 {percentile(seconds, 99) * 1000:.0f} ms, max {max(seconds) * 1000:.0f} ms"
    )


def test_one_idempotency_key_sent_20_times_at_once_makes_one_order(shop_server):
    server, url, shop = shop_server
    product = shop.products[3]
    # Credits for exactly one order: a racing duplicate must not be refused as "short of
    # credits" by the first one's charge; it must answer with that very order.
    starts = make_customers(url, "twin", [product.price])
    before = check_books(url)["total_orders"]
    buyer = Session(server.base, "twin0", shop.password)
    headers = {"Idempotency-Key": "double-click-1"}
    calls = [
        (buyer, "POST", "/api/orders", {"json": pickup_order(product.id), "headers": headers})
    ] * 20
    replies = send_all(calls, timeout=30)

    assert all(r.status in (200, 201) for r in replies), [(r.status, r.text) for r in replies]
    assert sorted(r.status for r in replies).count(201) == 1
    assert len({r.body["order"]["id"] for r in replies}) == 1
    stats = check_books(url, starts)
    assert stats["total_orders"] - before == 1


def test_the_checkout_form_posted_20_times_at_once_makes_one_order(shop_server):
    server, url, shop = shop_server
    product = shop.products[0]
    starts = make_customers(url, "clicker", [product.price * 2])
    before = check_books(url)["total_orders"]
    buyer = Session(server.base, "clicker0", shop.password)
    form = {"csrf_token": buyer.csrf, "product_id": str(product.id), "quantity": "2"}
    status, _ = buyer.request("POST", "/cart/add", form=form)
    assert status == 200
    key = checkout_form_key(buyer)
    form = {
        "csrf_token": buyer.csrf,
        "delivery_method": "pickup",
        "delivery_address": "",
        "idempotency_key": key,
    }
    replies = send_all([(buyer, "POST", "/checkout", {"data": form})] * 20, timeout=30)

    assert all(r.status == 302 for r in replies), [(r.status, r.text[:300]) for r in replies]
    locations = {r.location for r in replies}
    assert len(locations) == 1 and "/orders/ORD-" in locations.pop()
    stats = check_books(url, starts)
    assert stats["total_orders"] - before == 1


# -- 4. slow and dead clients ------------------------------------------------------------

STALLED = scaled(30, 100)  # 100 under ORDERPULSE_TEST_SCALE=full
HEALTHY = 3
ORDERS = scaled(20, 40)  # enough to fill every stalled stream's socket buffers
# Server RSS growth allowed for the stalled streams (bytes). What one stalled stream can
# hold is bounded by design (app/realtime/subscription.py): the unsent rest of one chunk
# (a tick's frames, < 16 KB here), at most SSE_EVENT_QUEUE_SIZE (64) queued order events
# (~0.8 KB each, ~50 KB) and one snapshot (< 16 KB), on top of an open stream's ~22 KB
# (README, Performance): under 110 KB each, 11 MB for 100; 120 KB each and 4 MB for the
# allocator (16 MB for 100). Measured: see the RELIABILITY line (-s).
RSS_GROWTH_BOUND = 4 * 2**20 + STALLED * 120 * 2**10


class TimedReader(threading.Thread):
    """A healthy client: reads a stream continuously, noting when each version arrived."""

    def __init__(self, session: Session):
        super().__init__(daemon=True)
        self.stream = StreamReader(session)
        self.arrivals: dict[int, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set() and not self.stream.ended:
            try:
                frames = self.stream.next_frames(2.0)  # > heartbeat: a timeout is a stall
            except (OSError, ValueError, AttributeError):  # AttributeError: closed meanwhile
                return
            now = time.monotonic()
            for frame in frames:
                if frame.get("id") is not None:
                    self.arrivals.setdefault(int(frame["id"]), now)

    def arrived(self, version: int) -> float | None:
        return min((t for v, t in self.arrivals.items() if v >= version), default=None)


def stalled_stream(server, admin: Session) -> socket.socket:
    """An admin stream whose client never reads: a tiny receive buffer, never recv."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)  # before connect: the window
    sock.connect(("127.0.0.1", server.port))
    sock.sendall(
        f"GET /admin/orders/stream HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Cookie: {admin.cookie_header()}\r\nUser-Agent: {USER_AGENT}\r\n\r\n".encode()
    )
    return sock


def open_streams(server) -> int:
    with urllib.request.urlopen(f"{server.base}/metrics", timeout=5) as response:
        text = response.read().decode()
    line = next(x for x in text.splitlines() if x.startswith("orderpulse_open_streams "))
    return int(float(line.split()[1]))


def test_stalled_streams_neither_delay_healthy_ones_nor_grow_memory(shared_db, servers):
    url, shop = shared_db
    server = servers(
        url,
        SSE_WRITE_TIMEOUT_SECONDS="1",
        SSE_SEND_BUFFER_BYTES="8192",  # the kernel makes it 16 KB: full after a few orders
        SSE_MAX_STREAMS_PER_USER=str(STALLED + 10),
    )
    (worker,) = [psutil.Process(pid) for pid in server.worker_pids()]
    admin = Session(server.base, shop.admin.username, shop.password)
    buyer = Session(server.base, shop.alice.username, shop.password)
    healthy = [TimedReader(admin) for _ in range(HEALTHY)]
    for reader in healthy:
        reader.start()
    buyer.place_order(shop.products[0].id)  # warm-up: first order, first ticks
    wait_until(lambda: open_streams(server) == HEALTHY, what=f"{HEALTHY} open streams")
    rss_before = worker.memory_info().rss
    stalled = [stalled_stream(server, admin) for _ in range(STALLED)]
    try:
        wait_until(lambda: open_streams(server) == HEALTHY + STALLED, what="all streams open")
        rss_open = worker.memory_info().rss
        peak = rss_open
        for i in range(ORDERS):
            buyer.place_order(shop.products[i % 4].id)
            version = admin.stats()["version"]
            for reader in healthy:  # how soon is bench/slow_clients_bench.py's to measure
                wait_until(
                    lambda r=reader, v=version: r.arrived(v),
                    what=f"order {i}: version {version} on a healthy stream",
                )
            peak = max(peak, worker.memory_info().rss)
        # Every stalled stream filled its socket buffers and is dropped after 1 s.
        wait_until(lambda: open_streams(server) == HEALTHY, what="the stalled streams dropped")
        peak = max(peak, worker.memory_info().rss)
        growth = peak - rss_before
        assert growth < RSS_GROWTH_BOUND, f"RSS grew {growth / 2**20:.1f} MB"
        assert all(not r.stream.ended for r in healthy), "healthy streams stayed open"
    finally:
        for sock in stalled:
            sock.close()
        for reader in healthy:
            reader.stop.set()
        for reader in healthy:
            reader.join(timeout=3)  # a heartbeat every 0.5 s wakes its read
            reader.stream.close()
    print(
        f"\nRELIABILITY slow clients (pytest): {STALLED} stalled + {HEALTHY} healthy, "
        f"{ORDERS} orders, all delivered; RSS +{(rss_open - rss_before) / 1024:.0f} KB "
        f"to open them, peak +{growth / 1024:.0f} KB; all {STALLED} dropped"
    )

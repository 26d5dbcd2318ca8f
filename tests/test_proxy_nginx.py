"""Through Debian's nginx with the shipped deploy/nginx.conf and deploy/orderpulse-site.conf,
in front of real gunicorn gevent servers run with
``FORWARDED_ALLOW_IPS`` as deploy/orderpulse.env.example says (loopback, the default).
Clients connect from different loopback addresses (127.0.0.2, 127.0.0.3, ...), so nginx
sees different clients. The tests that need no settings of their own share one server and
one nginx (``proxied``)."""

import asyncio
import re
import resource
import threading
import time

import pytest

from tests.helpers import WAIT_TIMEOUT, run_coroutine, scaled
from tests.nginx_fixtures import DEPLOY
from tests.servers import Session, StreamReader, has_version

pytestmark = [pytest.mark.server, pytest.mark.services]

JSON = {"Accept": "application/json"}


def attempt(session: Session, username: str, password: str = "wrong-pass", **headers) -> int:
    """One login POST from ``session`` (asking for JSON, so a refusal is a plain 429)."""
    form = {"csrf_token": session.csrf, "username": username, "password": password}
    return session.request("POST", "/auth/login", form=form, headers=JSON | headers)[0]


def logged_in(session: Session) -> bool:
    return session.request("GET", "/orders", headers=JSON)[0] == 200


@pytest.fixture(scope="module")
def proxied(module_db, module_servers, module_nginx):
    """``(server, proxy, shop)``: a server with the test settings behind the shipped nginx."""
    url, shop = module_db
    server = module_servers(url)
    return server, module_nginx(server.port), shop


def test_a_live_update_arrives_through_nginx(proxied):
    server, proxy, shop = proxied
    admin = Session(proxy.base, shop.admin.username, shop.password)
    stream = StreamReader(admin)
    try:
        assert stream.response.getheader("Content-Type").startswith("text/event-stream")
        stream.wait_for(lambda f: f.get("id") is not None)
        Session(server.base, shop.alice.username, shop.password).place_order()
        version = admin.stats()["version"]
        # Unbuffered: the frame comes at once, not when a proxy buffer fills up.
        stream.wait_for(has_version(version), timeout=2)
        stream.wait_for(lambda f: f.get("comment") == "heartbeat")
    finally:
        stream.close()


def test_metrics_answer_only_the_allow_list_whatever_the_client_claims(proxied):
    _, proxy, _ = proxied
    local = Session(proxy.base, source="127.0.0.1")
    assert local.request("GET", "/metrics")[0] == 200
    stranger = Session(proxy.base, source="127.0.0.2")
    assert stranger.request("GET", "/metrics")[0] == 403
    forged = {"X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1"}
    assert stranger.request("GET", "/metrics", headers=forged)[0] == 403


def test_login_limits_key_on_the_address_nginx_saw(shared_db, servers, nginx):
    url, shop = shared_db
    server = servers(url, RATELIMIT_ENABLED="1", RATELIMIT_LOGIN="3 per minute")
    proxy = nginx(server.port)
    guesser = Session(proxy.base, source="127.0.0.2")
    # A new forged X-Forwarded-For each time: nginx replaces it, so all count as 127.0.0.2.
    statuses = [
        attempt(guesser, "alice", **{"X-Forwarded-For": f"198.51.100.{i}"}) for i in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    # Without the proxy's header every client was 127.0.0.1 and this locked alice out everywhere.
    owner = Session(proxy.base, source="127.0.0.3")
    assert attempt(owner, "alice", shop.password) == 200  # the redirect, followed
    assert logged_in(owner)


def test_a_stolen_cookie_replayed_from_another_address_is_anonymous(proxied):
    _, proxy, shop = proxied
    victim = Session(proxy.base, shop.admin.username, shop.password, source="127.0.0.2")
    cookie = {"Cookie": victim.cookie_header()}
    api = "/admin/api/order-updates"
    thief = Session(proxy.base, source="127.0.0.3")
    forged = cookie | {"X-Forwarded-For": "127.0.0.2"}
    assert thief.request("GET", api, headers=forged)[0] == 401
    # The control: the same cookie from the victim's own address.
    assert Session(proxy.base, source="127.0.0.2").request("GET", api, headers=cookie)[0] == 200


# -- a fleet of dashboards -----------------------------------------------------------------

PER_ADDRESS = 50  # limit_conn orderpulse_streams in deploy/orderpulse-site.conf
# 41 x 50 = 2,050 streams under ORDERPULSE_TEST_SCALE=full (past the ~750 Debian's default
# nginx held); 3 x 50 in the suite, which still fills the per-address cap.
ADDRESSES = scaled(3, 41)


class Dashboard(asyncio.Protocol):
    """A minimal SSE reader: the HTTP status and the highest ``id:`` seen."""

    def __init__(self, request: bytes):
        self.request, self.buffer, self.status = request, b"", None
        self.version, self.lost = -1, None
        self.first = asyncio.get_running_loop().create_future()

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes):
        self.buffer += data
        if self.status is None:
            if b"\r\n" not in self.buffer:
                return
            self.status = int(self.buffer.split(b" ", 2)[1])
        self.buffer = self.buffer[-65536:]  # frames are small; keep the tail only
        for line in self.buffer.split(b"\n"):
            if line.startswith(b"id: ") and line[4:].strip().isdigit():
                self.version = max(self.version, int(line[4:]))
        if (self.version >= 0 or self.status not in (None, 200)) and not self.first.done():
            self.first.set_result(self.status)

    def connection_lost(self, exc):
        self.lost = exc or "closed by the server"
        if not self.first.done():
            self.first.set_result(self.status or 0)


async def open_dashboards(port: int, cookies: dict[str, str], count: int) -> list[Dashboard]:
    """``count`` streams from each address in ``cookies`` (address → its admin's cookie)."""
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(100)

    async def one(address: str, cookie: str) -> Dashboard:
        request = (
            f"GET /admin/orders/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Cookie: {cookie}\r\nUser-Agent: orderpulse-tests/1\r\n\r\n"
        ).encode()
        async with gate:
            _, dashboard = await loop.create_connection(
                lambda: Dashboard(request), "127.0.0.1", port, local_addr=(address, 0)
            )
            await asyncio.wait_for(dashboard.first, 60)
        return dashboard

    jobs = [one(address, cookie) for address, cookie in cookies.items() for _ in range(count)]
    return list(await asyncio.gather(*jobs))


async def until(predicate, timeout: float = WAIT_TIMEOUT) -> bool:
    """``wait_until`` for a coroutine: the event loop keeps reading the streams meanwhile."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def raise_open_files(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(need, hard), max(need, hard)))
        except (ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def test_the_shipped_nginx_has_room_for_2000_dashboards():
    """Debian's default nginx (768 worker_connections) held ~750 streams and then refused even
    an admin's status change. A proxied stream holds two connections (client and upstream);
    the shipped configuration has room for 2,050 of them per worker. The fleet below proves it
    live at full scale (``ORDERPULSE_TEST_SCALE=full``)."""
    text = (DEPLOY / "nginx.conf").read_text()
    connections = int(re.search(r"^\s*worker_connections (\d+);", text, re.M).group(1))
    files = int(re.search(r"^worker_rlimit_nofile (\d+);", text, re.M).group(1))
    assert connections >= 2 * 41 * PER_ADDRESS + 1000
    assert files >= connections


@pytest.mark.timeout(300)
def test_nginx_holds_a_fleet_of_dashboards_while_checkouts_succeed(shared_db, servers, nginx):
    """The shipped configuration passes ``ADDRESSES`` x 50 streams (2,050 at full scale)
    while customers check out, and a 51st stream from one address is refused at the proxy."""
    raise_open_files(10000)  # the test's own client sockets; inherited by the servers
    url, shop = shared_db
    server = servers(
        url,
        WORKER_CONNECTIONS="5000",
        SSE_MAX_STREAMS_PER_USER="5000",
        SSE_HEARTBEAT_SECONDS="15",
    )
    proxy = nginx(server.port)
    addresses = [f"127.0.0.{i}" for i in range(2, 2 + ADDRESSES)]
    # Session protection binds a session to its address: one admin login per address.
    cookies = {
        a: Session(proxy.base, shop.admin.username, shop.password, source=a).cookie_header()
        for a in addresses
    }
    buyer = Session(proxy.base, shop.alice.username, shop.password, source="127.0.0.200")
    metrics = Session(proxy.base, source="127.0.0.1")
    checkouts: list[int] = []

    def shop_keeps_serving(stop: threading.Event):
        while not stop.is_set() and len(checkouts) < 40:
            body = {"items": [{"product_id": shop.products[0].id, "quantity": 1}]}
            body["delivery_method"] = "pickup"
            checkouts.append(buyer.request("POST", "/api/orders", json_body=body)[0])

    async def scenario():
        stop = threading.Event()
        shopper = threading.Thread(target=shop_keeps_serving, args=(stop,), daemon=True)
        shopper.start()
        try:
            fleet = await open_dashboards(proxy.port, cookies, PER_ADDRESS)
            held = [d for d in fleet if d.status == 200 and d.version >= 0]
            failed = {(d.status, str(d.lost)) for d in fleet if d not in held}
            assert len(held) == PER_ADDRESS * ADDRESSES, failed
            one_more = await open_dashboards(proxy.port, {addresses[0]: cookies[addresses[0]]}, 1)
            assert one_more[0].status == 429, "the per-address cap at the proxy"
            # Beside the fleet, the shop still serves: checkouts go on, then one more that
            # every stream sees.
            assert await until(lambda: len(checkouts) >= 5), checkouts
            stop.set()
            await asyncio.to_thread(shopper.join, 60)
            order = await asyncio.to_thread(buyer.place_order, shop.products[1].id)
            assert order["order_number"]
            version = await asyncio.to_thread(stats_as_admin, proxy, shop, addresses[-1])
            reached = await until(lambda: all(d.version >= version for d in held))
            assert reached, sum(d.version >= version for d in held)
            text = (await asyncio.to_thread(metrics.request, "GET", "/metrics"))[1]
            assert open_streams(text) == len(held)
            for dashboard in fleet + one_more:
                dashboard.transport.close()
        finally:
            stop.set()

    run_coroutine(scenario(), timeout=240)
    assert checkouts and set(checkouts) == {201}, checkouts
    log = proxy.error_log.read_text(errors="replace")
    assert "worker_connections are not enough" not in log


def stats_as_admin(proxy, shop, address: str) -> int:
    admin = Session(proxy.base, shop.admin.username, shop.password, source=address)
    return admin.stats()["version"]


def open_streams(metrics_text: str) -> int:
    for line in metrics_text.splitlines():
        if line.startswith("orderpulse_open_streams "):
            return int(float(line.split()[1]))
    raise AssertionError("no orderpulse_open_streams in /metrics")


def test_the_shipped_env_example_trusts_the_local_proxy_only():
    from tests.servers import ROOT

    env = (ROOT / "deploy" / "orderpulse.env.example").read_text().splitlines()
    assert "FORWARDED_ALLOW_IPS=127.0.0.1,::1" in env
    assert not any(line.startswith("PROXY_FIX") for line in env)  # refused at start-up
    assert "SECRET_KEY=" in env  # left empty: the app refuses to start until it is set

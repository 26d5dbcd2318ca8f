"""Load harness for the real-time engine (issue: 10,000 dashboards per gevent worker).

Starts a fresh gunicorn gevent server on 127.0.0.1 (SQLite in a temp dir unless
``--database-url``), opens N logged-in admin streams, then measures:

- connect: streams held and the time to receive each stream's first snapshot (s);
- memory: the workers' RSS growth divided by N (KB per stream, psutil);
- idle CPU: the workers' CPU time over ``--idle-seconds`` with streams open (cores);
- delivery: K orders placed through ``POST /api/orders``, spaced ``--spacing`` s apart; for
  each order and each stream, the time from sending the checkout request (an upper bound on
  commit time) to the arrival of the first frame whose ``id:`` (version) includes it;
  p50/p90/p99/max in milliseconds over all streams × orders;
- missed deliveries, stream errors, and gevent loop blocks over 100 ms (gevent's monitor
  thread, from the server log).

Prints a table and writes JSON to ``bench/results/``. Traffic goes to 127.0.0.1 only, and
every phase is bounded in count and time.
"""

import argparse
import asyncio
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import psutil

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
# Flask-Login's "strong" session protection ties a session to its user agent: every
# connection of the harness presents the same one.
USER_AGENT = "orderpulse-bench/1"
ID_RE = re.compile(rb"(?:^|\n)id: (\d+)\n")
CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
from prepare import ADMIN, CUSTOMER  # noqa: E402

from tests.harness import GunicornServer  # noqa: E402


def raise_nofile(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(hard, max(soft, need))
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < need:
        print(f"warning: open-files limit {target} < {need}; some streams will fail")


class Stream(asyncio.Protocol):
    """A minimal HTTP/1.1 SSE reader: records ``(version, arrival time)`` of each frame.

    Hand-written instead of aiohttp so the client's own overhead per frame stays small and
    does not dominate the latency it measures.
    """

    def __init__(self, request: bytes, on_frames=None):
        self.request = request
        self.on_frames = on_frames  # called with each run of complete frames (bytes)
        self.pending = b""
        self.headers_done = False
        self.seen: list[tuple[int, float]] = []
        self.first = asyncio.get_running_loop().create_future()
        self.error: str | None = None
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes):
        now = time.perf_counter()
        buf = self.pending + data
        if not self.headers_done:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.pending = buf
                return
            status = buf.split(b" ", 2)[1]
            if status != b"200":
                self._fail(f"HTTP {status.decode()}")
                return
            self.headers_done = True
            buf = buf[end + 4 :]
        cut = buf.rfind(b"\n\n")
        if cut < 0:
            self.pending = buf
            return
        for match in ID_RE.finditer(buf, 0, cut + 2):
            self.seen.append((int(match.group(1)), now))
        if self.on_frames is not None:
            self.on_frames(buf[: cut + 2])
        self.pending = buf[cut + 2 :]
        if self.seen and not self.first.done():
            self.first.set_result(now)

    def connection_lost(self, exc):
        self._fail(f"closed: {exc}" if exc else "closed by server")

    def _fail(self, reason: str):
        if self.error is None:
            self.error = reason
        if not self.first.done():
            self.first.set_exception(ConnectionError(reason))


async def login(http: aiohttp.ClientSession, base: str, username: str, password: str) -> str:
    """Log in through the real form; returns the CSRF token for later API calls."""
    async with http.get(f"{base}/auth/login") as r:
        token = CSRF_RE.search(await r.text()).group(1)
    data = {"csrf_token": token, "username": username, "password": password}
    async with http.post(f"{base}/auth/login", data=data, allow_redirects=False) as r:
        if r.status != 302:
            raise RuntimeError(f"login as {username} failed: HTTP {r.status}")
    async with http.get(f"{base}/orders") as r:
        return CSRF_RE.search(await r.text()).group(1)


def client_session(**connector) -> aiohttp.ClientSession:
    """An aiohttp session that keeps cookies from 127.0.0.1 (``unsafe=True``: aiohttp drops
    cookies set by an IP address otherwise) and presents the harness's user agent."""
    return aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True),
        headers={"User-Agent": USER_AGENT},
        connector=aiohttp.TCPConnector(**connector) if connector else None,
    )


async def log_in_and_warm_up(server, admin, buyer) -> tuple[str, int]:
    """Log the admin and the buyer in, read the current version, and open and close 50
    streams: the first streams pay one-time costs (lazy imports, the hub thread, compiled
    queries) that are not per-stream memory. Returns ``(buyer's CSRF token, version)``."""
    await login(admin, server.base, *ADMIN)
    token = await login(buyer, server.base, *CUSTOMER)
    async with admin.get(f"{server.base}/admin/api/order-updates?minutes=1") as r:
        version = (await r.json())["stats"]["version"]
    warm, _, _, _ = await open_streams(server, cookie_header(admin), 50, 50)
    for stream in warm:
        stream.transport.close()
    return token, version


def cookie_header(http: aiohttp.ClientSession) -> str:
    return "; ".join(f"{c.key}={c.value}" for c in http.cookie_jar)


class Server(GunicornServer):
    """A gunicorn gevent server in a fresh process (``tests/harness.py``), with gevent's
    blocking monitor on when asked."""

    def __init__(self, args, workdir: Path):
        # ``--app-root``: another checkout's code (a "before" figure on the same harness).
        self.root = Path(getattr(args, "app_root", None) or ROOT)
        super().__init__(
            workdir,
            args.database_url or f"sqlite:///{workdir / 'bench.db'}",
            args.workers,
            port=args.port,
            defaults={"SECRET_KEY": "bench-secret", "ACCESS_LOG": "/dev/null"},
            config=os.environ.get("BENCH_GUNICORN_CONF", "gunicorn.conf.py"),
            WORKER_CONNECTIONS=args.streams + 1000,
            SSE_LIFETIME_SECONDS=3600,
            SSE_LIFETIME_JITTER_SECONDS=0,
            RATELIMIT_ENABLED=0,  # the harness checks out far faster than a person
            # One admin session opens every stream here; a browser would share one.
            SSE_MAX_STREAMS_PER_USER=args.streams + 100,
            cwd=self.root,
            PYTHONPATH=str(self.root),
        )
        if args.redis_url:
            self.env["REDIS_URL"] = args.redis_url
            self.env["REDIS_CHANNEL"] = f"orderpulse:bench:{self.port}"
        if args.gevent_monitor:
            # gevent's own blocking monitor: precise stacks, but each report walks every
            # greenlet, which itself blocks for seconds at 10,000 streams; off by default.
            self.env.update(GEVENT_MONITOR_THREAD_ENABLE="true", GEVENT_MAX_BLOCKING_TIME="0.1")

    def prepare(self, orders: int, customers: int = 0) -> None:
        cmd = [PY, str(self.root / "bench" / "prepare.py"), "--orders", str(orders)]
        cmd += ["--customers", str(customers)]
        subprocess.run(cmd, env=self.env, check=True, cwd=self.root)

    def workers(self) -> list[psutil.Process]:
        return psutil.Process(self.proc.pid).children()

    def rss(self) -> int:
        return self.workers_rss()

    def cpu_seconds(self) -> float:
        return sum(sum(p.cpu_times()[:2]) for p in self.workers())

    def blocked_reports(self) -> int:
        return self.log_path.read_text(errors="replace").count("appears to be blocked")

    def loop_lag(self, metrics_text: str) -> tuple[int, int]:
        """``(samples, samples later than 100 ms)`` from the event-loop lag histogram."""

        def value(pattern: str) -> int:
            found = re.search(pattern, metrics_text, re.M)
            return int(float(found.group(1))) if found else 0

        total = value(r"^orderpulse_event_loop_lag_seconds_count (\S+)")
        within = value(r'^orderpulse_event_loop_lag_seconds_bucket\{le="0\.1"\} (\S+)')
        return total, total - within


def stream_request(port: int, cookie: str, path: str = "/admin/orders/stream") -> bytes:
    """The raw HTTP/1.1 request an EventSource sends for ``path``."""
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Cookie: {cookie}\r\nUser-Agent: {USER_AGENT}\r\nAccept: text/event-stream\r\n\r\n"
    ).encode()


async def open_streams(
    server: Server, cookie: str, n: int, concurrency: int, path=None, on_frames=None
):
    """Open ``n`` streams (``concurrency`` connects at a time); ``on_frames(i)`` gives the
    i-th stream's frame callback. Returns ``(streams, connect times, errors, seconds)``."""
    loop = asyncio.get_running_loop()
    request = stream_request(server.port, cookie, path or "/admin/orders/stream")
    gate = asyncio.Semaphore(concurrency)
    streams: list[Stream] = []
    connect_times: list[float] = []

    async def one(i):
        callback = on_frames(i) if on_frames else None
        async with gate:
            started = time.perf_counter()
            try:
                _, proto = await loop.create_connection(
                    lambda: Stream(request, callback), "127.0.0.1", server.port
                )
                streams.append(proto)
                first = await asyncio.wait_for(proto.first, 60)
                connect_times.append(first - started)
            except (TimeoutError, OSError, ConnectionError) as exc:
                connect_errors.append(repr(exc))

    connect_errors: list[str] = []
    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return streams, connect_times, connect_errors, time.perf_counter() - started


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def place_orders(server, buyer, token, k: int, spacing: float, version: int):
    """Place K orders; returns ``[(target_version, sent_at)]``."""
    sent = []
    body = {"items": [{"product_id": 1, "quantity": 1}], "delivery_method": "pickup"}
    for i in range(k):
        target = version + i + 1
        started = time.perf_counter()
        async with buyer.post(
            f"{server.base}/api/orders", json=body, headers={"X-CSRFToken": token}
        ) as r:
            if r.status != 201:
                raise RuntimeError(f"checkout failed: HTTP {r.status} {await r.text()}")
        sent.append((target, started))
        await asyncio.sleep(spacing)
    return sent


def deliveries(streams: list[Stream], sent) -> tuple[list[float], int]:
    latencies, missed = [], 0
    for stream in streams:
        for target, started in sent:
            arrival = next((t for v, t in stream.seen if v >= target), None)
            if arrival is None:
                missed += 1
            else:
                latencies.append((arrival - started) * 1000)
    return latencies, missed


async def run(args) -> dict:
    raise_nofile(args.streams + 2000)
    workdir = Path(tempfile.mkdtemp(prefix="orderpulse-bench-"))
    server = Server(args, workdir)
    server.prepare(args.orders)
    server.start()
    result: dict = {"streams": args.streams, "workers": args.workers, "orders_in_db": args.orders}

    try:
        async with client_session() as admin, client_session() as buyer:
            token, version = await log_in_and_warm_up(server, admin, buyer)
            await asyncio.sleep(1.5)
            rss_before = server.rss()
            streams, connect, errors, took = await open_streams(
                server, cookie_header(admin), args.streams, args.concurrency
            )
            if errors:
                print(f"first connect error: {errors[0]}; server log: {server.log_path}")
            async with admin.get(f"{server.base}/metrics") as r:
                direct = re.search(r"^orderpulse_direct_streams (\S+)", await r.text(), re.M)
                result["direct_write_streams"] = direct and int(float(direct.group(1)))
            held = sum(1 for s in streams if s.error is None and s.first.done())
            await asyncio.sleep(2)
            rss_after = server.rss()
            result.update(
                held=held,
                connect_errors=len(errors),
                connect_total_s=round(took, 2),
                connect_p50_ms=round(percentile(connect, 50) * 1000, 1),
                connect_p99_ms=round(percentile(connect, 99) * 1000, 1),
                kb_per_stream=round((rss_after - rss_before) / 1024 / max(held, 1), 2),
                rss_mb=round(rss_after / 2**20, 1),
            )
            cpu0 = server.cpu_seconds()
            await asyncio.sleep(args.idle_seconds)
            result["idle_cpu_cores"] = round((server.cpu_seconds() - cpu0) / args.idle_seconds, 4)
            sent = await place_orders(server, buyer, token, args.k, args.spacing, version)
            await asyncio.sleep(args.settle)
            live = [s for s in streams if s.first.done() and not s.first.exception()]
            latencies, missed = deliveries(live, sent)
            result.update(
                deliveries=len(latencies),
                missed=missed,
                min_ms=round(min(latencies, default=float("nan")), 1),
                p50_ms=round(percentile(latencies, 50), 1),
                p90_ms=round(percentile(latencies, 90), 1),
                p99_ms=round(percentile(latencies, 99), 1),
                max_ms=round(max(latencies, default=float("nan")), 1),
                mean_ms=round(statistics.fmean(latencies), 1) if latencies else None,
                stream_errors=sum(1 for s in streams if s.error),
                reconnects=0,  # the harness never reconnects: a dropped stream is an error
                gevent_monitor_reports=server.blocked_reports(),
            )
            async with admin.get(f"{server.base}/metrics") as r:
                samples, late = server.loop_lag(await r.text())
            result.update(loop_lag_samples=samples, loop_blocks_over_100ms=late)
            for s in streams:
                if s.transport:
                    s.transport.close()
    finally:
        server.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", "-n", type=int, default=1000)
    parser.add_argument("--orders-to-place", "-k", dest="k", type=int, default=20)
    parser.add_argument("--spacing", type=float, default=0.5, help="seconds between orders")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds to wait at the end")
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=200, help="parallel connects")
    parser.add_argument("--orders", type=int, default=1000, help="past orders in the database")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out", default=None, help="JSON output path")
    parser.add_argument(
        "--gevent-monitor", action="store_true", help="also run gevent's monitor thread"
    )
    parser.add_argument(
        "--client",
        choices=("stream", "dashboard"),
        default="stream",
        help="dashboard: each stream behaves like the page script (bench/dashboard_bench.py)",
    )
    args, rest = parser.parse_known_args()
    if args.client == "dashboard":
        import dashboard_bench

        dashboard_bench.main([a for a in sys.argv[1:] if a not in ("--client", "dashboard")])
        return
    args = parser.parse_args()
    try:  # uvloop keeps the harness's own per-frame cost low, so it measures the server
        import uvloop

        result = uvloop.run(run(args))
    except ImportError:
        result = asyncio.run(run(args))
    report(result, args.out or ROOT / "bench" / "results" / f"streams-{args.streams}.json")


def report(result: dict, out) -> None:
    """Add machine and date, print the figures as a table and write them as JSON."""
    result["machine"] = f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB"
    result["date"] = time.strftime("%Y-%m-%d")
    width = max(map(len, result))
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

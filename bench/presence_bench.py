"""Presence (docs/design.md §5a) under measurement, on a real gunicorn gevent server.

``latency``: two workers, Redis or PostgreSQL ``LISTEN/NOTIFY`` (``--backend``). A watching
admin holds a dashboard stream on each worker; another admin, with her own dashboard open,
opens an order's cancel dialog 50 times (``POST /admin/api/presence``), then opens her
dashboard 50 times. Reports, per kind of open, p50/p99/max in ms from sending the request
(or connecting) to each watching stream receiving the ``event: presence`` frame that shows
it, over opens × workers, and how long a closed dashboard takes to disappear.

``load``: one worker, N dashboards (``-n``, default 1,000) held by ``--admins`` admin
sessions (default 20), each admin moving to a random order every ``--move-every`` seconds
(default 2), while a customer places one order a second. Reports order delivery p50/p99
(checkout sent → the frame with its version, on every stream), presence delivery p50/p99
(move sent → the frame showing it, on a sample of the streams), presence frames and bytes,
and the worker's busy CPU (cores).

    python bench/presence_bench.py latency --backend redis
    python bench/presence_bench.py latency --backend postgres
    python bench/presence_bench.py load -n 1000 --admins 20

127.0.0.1 only; every phase is bounded in count and time. PostgreSQL runs use a database of
their own, made and dropped here (``--postgres`` names the server).
"""

import argparse
import asyncio
import json
import random
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stream_bench import (  # noqa: E402
    ADMIN,
    ID_RE,
    ROOT,
    Server,
    client_session,
    cookie_header,
    deliveries,
    login,
    percentile,
    place_orders,
    raise_nofile,
    report,
    stream_request,
)

PRESENCE_RE = re.compile(rb"event: presence\ndata: ([^\n]*)\n")
PID_RE = re.compile(rb"\r\nX-Worker-Pid: (\d+)\r\n", re.I)


class Watch(asyncio.Protocol):
    """An SSE reader that records each frame's version and, when ``parse`` is set, every
    presence frame as ``(arrival, {username: (order_id, action)})``."""

    def __init__(self, request: bytes, parse: bool):
        self.request, self.parse = request, parse
        self.buf, self.headers_done = b"", False
        self.pid = 0
        self.versions: list[tuple[int, float]] = []
        self.presence: list[tuple[float, dict]] = []
        self.first = asyncio.get_running_loop().create_future()
        self.transport, self.error = None, None
        self.presence_bytes = 0

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes):
        now = time.perf_counter()
        buf = self.buf + data
        if not self.headers_done:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buf = buf
                return
            head = buf[: end + 2]
            if b" 200 " not in head.split(b"\r\n", 1)[0]:
                self.error = head.split(b"\r\n", 1)[0].decode()
                return
            found = PID_RE.search(head)
            self.pid = int(found.group(1)) if found else 0
            self.headers_done, buf = True, buf[end + 4 :]
        cut = buf.rfind(b"\n\n")
        if cut < 0:
            self.buf = buf
            return
        block, self.buf = buf[: cut + 2], buf[cut + 2 :]
        for match in ID_RE.finditer(block):
            self.versions.append((int(match.group(1)), now))
        for match in PRESENCE_RE.finditer(block):
            self.presence_bytes += len(match.group(0))
            if self.parse:
                admins = json.loads(match.group(1))["admins"]
                shown = {a["username"]: (a["order_id"], a["action"]) for a in admins}
                self.presence.append((now, shown))
        if not self.first.done() and (self.versions or self.presence):
            self.first.set_result(now)

    def connection_lost(self, exc):
        self.error = self.error or "closed"
        if not self.first.done():
            self.first.set_exception(ConnectionError(self.error))

    def shown_at(self, since: float, test) -> float | None:
        """Arrival of the first presence frame after ``since`` for which ``test(shown)``."""
        return next((t for t, shown in self.presence if t >= since and test(shown)), None)


async def watch(server, cookie: str, parse: bool = True, path="/admin/orders/stream") -> Watch:
    loop = asyncio.get_running_loop()
    request = stream_request(server.port, cookie, path)
    _, proto = await loop.create_connection(
        lambda: Watch(request, parse), "127.0.0.1", server.port
    )
    await asyncio.wait_for(proto.first, 30)
    return proto


async def seen_after(streams: list[Watch], since: float, test, timeout=10.0) -> list[float]:
    """Per stream, ms from ``since`` to the first presence frame for which ``test``
    (``inf`` when none came within ``timeout`` seconds)."""
    await until(lambda: all(s.shown_at(since, test) for s in streams), timeout)
    arrivals = [s.shown_at(since, test) for s in streams]
    return [(t - since) * 1000 if t else float("inf") for t in arrivals]


async def until(predicate, timeout: float) -> bool:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.005)
    return predicate()


def summary(prefix: str, values: list[float]) -> dict:
    return {
        f"{prefix}_n": len(values),
        f"{prefix}_p50_ms": round(percentile(values, 50), 1),
        f"{prefix}_p99_ms": round(percentile(values, 99), 1),
        f"{prefix}_max_ms": round(max(values, default=float("nan")), 1),
    }


# -- latency: two workers ----------------------------------------------------------------
async def latency(args, server) -> dict:
    result: dict = {"mode": "latency", "backend": args.backend, "workers": 2}
    async with client_session() as boss, client_session() as maria:
        await login(boss, server.base, *ADMIN)
        token = await login(maria, server.base, f"{ADMIN[0]}1", ADMIN[1])
        watchers: dict[int, Watch] = {}
        for _ in range(60):  # the kernel picks the worker: until both serve one
            stream = await watch(server, cookie_header(boss))
            if stream.pid in watchers:
                stream.transport.close()
            else:
                watchers[stream.pid] = stream
            if len(watchers) == 2:
                break
        if len(watchers) < 2:
            raise RuntimeError("could not reach both workers")
        name = f"{ADMIN[0]}1"
        dialog, join, leave = [], [], []
        watching = list(watchers.values())
        for i in range(args.opens):  # her dashboard opens: does she show on both workers?
            # Each change alone, past the previous frame's coalescing window (the load mode
            # measures changes that do share frames).
            await asyncio.sleep(args.gap)
            started = time.perf_counter()
            hers = await watch(server, cookie_header(maria))
            join += await seen_after(watching, started, lambda shown: name in shown)
            focus = (i + 1, "cancelling")
            await asyncio.sleep(args.gap)
            started = time.perf_counter()
            body = {"order_id": focus[0], "action": focus[1]}
            headers = {"X-CSRFToken": token}
            async with maria.post(
                f"{server.base}/admin/api/presence", json=body, headers=headers
            ) as r:
                assert r.status == 200, await r.text()
            dialog += await seen_after(
                watching, started, lambda shown, f=focus: shown.get(name) == f
            )
            await asyncio.sleep(args.gap)
            closed = time.perf_counter()
            hers.transport.close()
            leave += await seen_after(watching, closed, lambda shown: name not in shown)
        result.update(opens=args.opens, leave_grace_s=args.leave_grace, gap_s=args.gap)
        result.update(summary("dashboard_open", join))
        result.update(summary("dialog_open", dialog))
        result.update(summary("dashboard_closed_gone", leave))
        for w in watchers.values():
            w.transport.close()
    return result


# -- load: one worker, many dashboards -----------------------------------------------------
async def mover(server, http, token: str, name: str, every: float, stop, moves, orders: int):
    await asyncio.sleep(random.uniform(0, every))  # spread the admins over the interval
    rng = random.Random(name)
    while not stop.is_set():
        order_id = rng.randint(1, orders)
        action = rng.choice(("viewing", "cancelling", "advancing"))
        started = time.perf_counter()
        async with http.post(
            f"{server.base}/admin/api/presence",
            json={"order_id": order_id, "action": action},
            headers={"X-CSRFToken": token},
        ) as r:
            if r.status != 200:
                raise RuntimeError(f"presence: HTTP {r.status} {await r.text()}")
        moves.append((name, order_id, action, started))
        await asyncio.sleep(every)


async def load(args, server) -> dict:
    result: dict = {"mode": "load", "dashboards": args.streams, "admins": args.admins}
    sessions, tokens = [], []
    async with client_session() as buyer:
        buyer_token = await login(buyer, server.base, "benchbuyer", "bench-buyer-pass")
        for i in range(1, args.admins + 1):
            http = client_session()
            sessions.append(http)
            tokens.append(await login(http, server.base, f"{ADMIN[0]}{i}", ADMIN[1]))
        try:
            async with sessions[0].get(f"{server.base}/admin/api/order-updates?minutes=1") as r:
                version = (await r.json())["stats"]["version"]
            streams: list[Watch] = []
            gate = asyncio.Semaphore(args.concurrency)

            async def one(i):
                async with gate:
                    cookie = cookie_header(sessions[i % args.admins])
                    try:
                        streams.append(await watch(server, cookie, parse=i % args.sample == 0))
                    except (OSError, ConnectionError, TimeoutError) as exc:
                        result.setdefault("connect_errors", []).append(repr(exc))

            await asyncio.gather(*(one(i) for i in range(args.streams)))
            result["held"] = len(streams)
            await asyncio.sleep(2)
            stop, moves = asyncio.Event(), []
            movers = [
                asyncio.ensure_future(
                    mover(
                        server,
                        http,
                        token,
                        f"{ADMIN[0]}{i + 1}",
                        args.move_every,
                        stop,
                        moves,
                        args.orders,
                    )
                )
                for i, (http, token) in enumerate(zip(sessions, tokens, strict=True))
            ]
            await asyncio.sleep(args.move_every)  # every admin has moved once
            cpu0, started = server.cpu_seconds(), time.perf_counter()
            bytes0 = sum(s.presence_bytes for s in streams)
            sent = await place_orders(server, buyer, buyer_token, args.changes, 1.0, version)
            measured = [m for m in moves if m[3] >= started]
            stop.set()
            await asyncio.gather(*movers)
            await asyncio.sleep(args.settle)
            elapsed = time.perf_counter() - started
            busy = (server.cpu_seconds() - cpu0) / elapsed
            order_latencies, missed = deliveries(
                [_AsSeen(s) for s in streams if not s.error], sent
            )
            sampled = [s for s in streams if s.parse and not s.error]
            presence_latencies, presence_missed = [], 0
            for name, order_id, action, at in measured:
                focus = (order_id, action)
                for s in sampled:
                    arrival = s.shown_at(at, lambda shown, n=name, f=focus: shown.get(n) == f)
                    if arrival is None:
                        presence_missed += 1
                    else:
                        presence_latencies.append((arrival - at) * 1000)
            frames = [len(s.presence) for s in sampled]
            result.update(
                orders_placed=args.changes,
                presence_moves=len(measured),
                moves_per_second=round(len(measured) / elapsed, 1),
                order_deliveries=len(order_latencies),
                order_missed=missed,
                **summary("order_delivery", order_latencies),
                sampled_streams=len(sampled),
                presence_deliveries=len(presence_latencies),
                presence_missed=presence_missed,
                **summary("presence_delivery", presence_latencies),
                presence_frames_per_stream_per_s=round(max(frames, default=0) / elapsed, 2),
                presence_kb_per_stream_per_s=round(
                    (sum(s.presence_bytes for s in streams) - bytes0)
                    / max(1, len(streams))
                    / elapsed
                    / 1024,
                    2,
                ),
                busy_cpu_cores=round(busy, 3),
                stream_errors=sum(1 for s in streams if s.error),
            )
            for s in streams:
                s.transport.close()
        finally:
            for http in sessions:
                await http.close()
    return result


class _AsSeen:
    """``deliveries`` reads ``stream.seen`` as ``[(version, arrival)]``."""

    def __init__(self, stream: Watch):
        self.seen = stream.versions


# -- running -------------------------------------------------------------------------------
def postgres_database(admin_url: str) -> tuple[str, str]:
    name = f"orderpulse_presence_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return name, f"{base}/{name}"


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def run(args) -> dict:
    raise_nofile(args.streams + 2000)
    workdir = Path(tempfile.mkdtemp(prefix="orderpulse-presence-"))
    created = None
    if (args.mode == "latency" or args.backend == "postgres") and args.database_url is None:
        created, args.database_url = postgres_database(args.postgres)
    args.redis_url = args.redis if args.backend == "redis" else None
    args.gevent_monitor = False
    args.workers = 2 if args.mode == "latency" else 1
    server = Server(args, workdir)
    server.env.update(
        REALTIME_BACKEND=args.backend,
        EXPOSE_WORKER_PID="1",
        PRESENCE_LEAVE_GRACE_SECONDS=str(args.leave_grace),
        HUB_VERSION_POLL_SECONDS="60" if args.backend != "local" else "1",
    )
    try:
        prepare(server, args.orders, max(1, args.admins))
        server.start()
        try:
            measure = latency if args.mode == "latency" else load
            result = await measure(args, server)
        finally:
            server.stop()
    finally:
        if created:
            drop_database(args.postgres, created)
    result["database"] = "postgresql" if args.database_url else "sqlite"
    return result


def prepare(server, orders: int, admins: int) -> None:
    cmd = [sys.executable, str(ROOT / "bench" / "prepare.py"), "--orders", str(orders)]
    subprocess.run(cmd + ["--admins", str(admins)], env=server.env, check=True, cwd=ROOT)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("latency", "load"))
    parser.add_argument("--backend", choices=("redis", "postgres", "local"), default=None)
    parser.add_argument("--opens", type=int, default=50, help="latency: opens to measure")
    parser.add_argument("--leave-grace", type=float, default=2.5, help="seconds (server)")
    parser.add_argument("--gap", type=float, default=0.5, help="latency: seconds between")
    parser.add_argument("--streams", "-n", type=int, default=1000, help="load: dashboards")
    parser.add_argument("--admins", type=int, default=20, help="load: admin sessions")
    parser.add_argument("--move-every", type=float, default=2.0, help="load: seconds")
    parser.add_argument("--changes", type=int, default=30, help="load: orders, one a second")
    parser.add_argument("--sample", type=int, default=20, help="load: parse every Nth stream")
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--orders", type=int, default=1000, help="past orders in the database")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    if args.backend is None:
        args.backend = "redis" if args.mode == "latency" else "local"
    if args.mode == "latency":
        args.streams = 100
    try:
        import uvloop

        result = uvloop.run(run(args))
    except ImportError:
        result = asyncio.run(run(args))
    name = f"presence-{args.mode}-{args.backend}.json"
    report(result, args.out or ROOT / "bench" / "results" / name)


if __name__ == "__main__":
    main()

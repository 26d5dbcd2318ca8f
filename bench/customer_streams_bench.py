"""Customers following their own orders: N ``/orders/<n>/stream`` on W gunicorn gevent workers
(default 20,000 on 2), PostgreSQL with ``LISTEN/NOTIFY`` (a database of its own), each stream
a different customer following their one order, while an admin moves orders.

Measures:

- held: streams that got their first frame (connect p50/p99, seconds to open them all);
- memory: the workers' RSS growth over N (KB per stream, psutil);
- idle CPU: the workers' CPU time over ``--idle-seconds`` with every stream open and
  nothing moving (cores; heartbeats, housekeeping and the sessions' re-validation
  included), and PostgreSQL's beside it;
- move → page: ``--moves`` orders, each followed by one stream, advanced by an admin
  (``POST /admin/api/order/<id>/status``) ``--spacing`` s apart; from sending the request
  to that stream receiving its ``update`` frame, p50/p99/max in ms; missed moves.

The customers and their sessions are made in the database (``prepare.py --shoppers
--cookies``: no password hash or login per customer). The open-files limit is raised for
this process and the servers it starts; past ``--per-process`` streams (10,000) the rest
are held by holder processes of this script (``--hold``), as one process may not have more
descriptors than the hard limit (20,000 on the project machine). Traffic stays on
127.0.0.1; every phase is bounded in count and time.

    python bench/customer_streams_bench.py -n 20000 --workers 2
"""

import argparse
import asyncio
import contextlib
import json
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checkout_bench import DEFAULT_ADMIN_DB, drop_database, fresh_database  # noqa: E402
from prepare import ADMIN  # noqa: E402
from stream_bench import (  # noqa: E402
    PY,
    ROOT,
    Server,
    client_session,
    login,
    percentile,
    raise_nofile,
    report,
    stream_request,
)

UPDATE = b'"type":"update"'


class Follower(asyncio.Protocol):
    """One customer's tracking stream: when its first frame came, and when each ``update``
    frame arrived (perf_counter seconds)."""

    def __init__(self, request: bytes):
        self.request = request
        self.status = None
        self.buffer = b""
        self.updates: list[float] = []
        self.first = asyncio.get_running_loop().create_future()
        self.error = None
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes):
        now = time.perf_counter()
        buf = self.buffer + data
        if self.status is None:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buffer = buf
                return
            self.status = int(buf.split(b" ", 2)[1])
            if self.status != 200:
                self._fail(f"HTTP {self.status}")
                return
            buf = buf[end + 4 :]
        cut = buf.rfind(b"\n\n")
        if cut < 0:
            self.buffer = buf
            return
        complete, self.buffer = buf[: cut + 2], buf[cut + 2 :]
        self.updates.extend([now] * complete.count(UPDATE))
        if not self.first.done() and b'"type":"initial"' in complete:
            self.first.set_result(now)

    def connection_lost(self, exc):
        self._fail(f"closed: {exc}" if exc else "closed by server")

    def _fail(self, reason):
        self.error = self.error or reason
        if not self.first.done():
            self.first.set_exception(ConnectionError(reason))


async def open_followers(server, made: list[dict], concurrency: int):
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(concurrency)
    followers: list = [None] * len(made)
    connect: list[float] = []
    errors: list[str] = []

    async def one(i: int, who: dict) -> None:
        path = f"/orders/{who['order_number']}/stream"
        request = stream_request(server.port, who["cookie"], path)
        async with gate:
            started = time.perf_counter()
            try:
                _, follower = await loop.create_connection(
                    lambda: Follower(request), "127.0.0.1", server.port
                )
                followers[i] = follower
                connect.append(await asyncio.wait_for(follower.first, 120) - started)
            except (TimeoutError, OSError, ConnectionError) as exc:
                errors.append(repr(exc))

    started = time.perf_counter()
    await asyncio.gather(*(one(i, who) for i, who in enumerate(made)))
    return followers, connect, errors, time.perf_counter() - started


class _Port:
    """What ``open_followers`` needs of a server in a holder process: its port."""

    def __init__(self, port: int):
        self.port = port


async def hold(port: int, made: list[dict], concurrency: int) -> None:
    """A holder process's part (``--hold``): open these streams, print one JSON line
    ``{"held", "errors", "connect"}`` (connect: seconds each), keep them open until stdin
    closes. A process may have at most the hard open-files limit of descriptors (20,000 on
    the project machine, and root may not raise it there), so 20,000 streams need two."""
    followers, connect, errors, _ = await open_followers(_Port(port), made, concurrency)
    held = sum(1 for f in followers if f and f.first.done() and not f.first.exception())
    print(json.dumps({"held": held, "errors": errors[:5], "connect": connect}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    for follower in followers:
        if follower and follower.transport:
            follower.transport.close()


async def open_everywhere(server, made, args, cookies: Path):
    """Open ``made``'s streams: the first ``args.per_process`` in this process (those the
    moves follow), the rest in holder processes of at most as many each, all at once.
    Returns ``(followers here, connect seconds of all, errors of all, seconds, holders)``."""
    mine, rest = made[: args.per_process], len(made) - args.per_process
    holders = []
    for start in range(args.per_process, len(made), args.per_process):
        end = min(start + args.per_process, len(made))
        cmd = [PY, __file__, "--hold", f"{server.port}:{cookies}:{start}:{end}"]
        cmd += ["--concurrency", str(args.concurrency)]
        holders.append(
            await asyncio.create_subprocess_exec(
                *cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, limit=2**24
            )
        )
    started = time.perf_counter()
    followers, connect, errors, _ = await open_followers(server, mine, args.concurrency)
    held_elsewhere = 0
    for proc in holders:
        line = json.loads(await proc.stdout.readline())
        held_elsewhere += line["held"]
        connect += line["connect"]
        errors += line["errors"]
    took = time.perf_counter() - started
    assert rest <= 0 or holders, "holders start for every stream beyond this process's share"
    return followers, connect, errors, took, holders, held_elsewhere


def postgres_cpu() -> dict[int, float]:
    """CPU seconds of each PostgreSQL process now (backends come and go: compare by pid)."""
    seen = {}
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] == "postgres":
            with contextlib.suppress(psutil.Error):  # a backend that just exited
                seen[proc.pid] = sum(proc.cpu_times()[:2])
    return seen


def cpu_since(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


async def move(admin, base: str, token: str, order_id: int) -> None:
    url = f"{base}/admin/api/order/{order_id}/status"
    body = {"status": "Shipped", "from": "Pending"}
    async with admin.post(url, json=body, headers={"X-CSRFToken": token}) as r:
        if r.status != 200:
            raise RuntimeError(
                f"move of order {order_id} failed: HTTP {r.status} {await r.text()}"
            )


def raise_open_files(need: int) -> None:
    """Soft and hard open-files limits of at least ``need`` (root may raise the hard one;
    otherwise up to it), inherited by the servers this process starts."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < need:
        with contextlib.suppress(ValueError, OSError):  # not root: the hard limit stays
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, need))
    raise_nofile(need)


async def run(args) -> dict:
    raise_open_files(min(args.streams, args.per_process) + 4000)
    workdir = Path(tempfile.mkdtemp(prefix="orderpulse-customers-"))
    db_name = None
    if args.database_url is None:
        db_name = f"orderpulse_customers_{args.port or 0}_{int(time.time())}"
        args.database_url = fresh_database(args.admin_db, db_name)
    args.redis_url, args.gevent_monitor = None, False
    server = Server(args, workdir)
    # Each customer holds one stream; the bench admin logs in once more for the moves.
    server.env["SESSION_MAX_PER_USER"] = "100"
    server.prepare(0)
    made_at = time.perf_counter()
    cookies = workdir / "cookies.json"
    cmd = [PY, str(ROOT / "bench" / "prepare.py"), "--shoppers", str(args.streams)]
    cmd += ["--cookies", f"shoppers:{args.streams}", "--cookies-out", str(cookies)]
    subprocess.run(cmd, env=server.env, check=True, cwd=ROOT)
    made = json.loads(cookies.read_text())
    result: dict = {
        "streams": args.streams,
        "workers": args.workers,
        "database": "postgresql" if "postgresql" in args.database_url else "sqlite",
        "customers_made_s": round(time.perf_counter() - made_at, 1),
    }
    server.start()
    try:
        async with client_session() as admin:
            token = await login(admin, server.base, *ADMIN)
            warm, _, _, _ = await open_followers(server, made[:50], 50)
            for follower in warm:
                if follower and follower.transport:
                    follower.transport.close()
            await asyncio.sleep(2)
            rss_before = server.rss()
            followers, connect, errors, took, holders, elsewhere = await open_everywhere(
                server, made, args, cookies
            )
            if errors:
                print(f"first connect error: {errors[0]}; server log: {server.log}")
            held = [f for f in followers if f and f.first.done() and not f.first.exception()]
            held += [None] * elsewhere  # held by the holder processes
            await asyncio.sleep(3)
            rss_after = server.rss()
            result.update(
                held=len(held),
                connect_errors=len(errors),
                open_all_s=round(took, 1),
                connect_p50_ms=round(percentile(connect, 50) * 1000, 1),
                connect_p99_ms=round(percentile(connect, 99) * 1000, 1),
                kb_per_stream=round((rss_after - rss_before) / 1024 / max(len(held), 1), 2),
                workers_rss_mb=round(rss_after / 2**20, 1),
            )
            cpu0, pg0 = server.cpu_seconds(), postgres_cpu()
            await asyncio.sleep(args.idle_seconds)
            result["idle_cpu_cores"] = round((server.cpu_seconds() - cpu0) / args.idle_seconds, 4)
            result["idle_postgres_cores"] = round(
                cpu_since(pg0, postgres_cpu()) / args.idle_seconds, 4
            )
            chosen = random.Random(11).sample(
                range(len(followers)), min(args.moves, len(followers))
            )
            sent = []
            cpu0 = server.cpu_seconds()
            moves_started = time.perf_counter()
            for i in chosen:
                follower = followers[i]
                before = len(follower.updates) if follower else 0
                started = time.perf_counter()
                await move(admin, server.base, token, made[i]["order_id"])
                sent.append((follower, before, started))
                await asyncio.sleep(args.spacing)
            await asyncio.sleep(args.settle)
            moving_cpu = server.cpu_seconds() - cpu0
            latencies, missed = [], 0
            for follower, before, started in sent:
                if follower is None or len(follower.updates) <= before:
                    missed += 1
                else:
                    latencies.append((follower.updates[before] - started) * 1000)
            result.update(
                moves=len(sent),
                missed=missed,
                move_p50_ms=round(percentile(latencies, 50), 1),
                move_p99_ms=round(percentile(latencies, 99), 1),
                move_max_ms=round(max(latencies, default=float("nan")), 1),
                cpu_while_moving_cores=round(
                    moving_cpu / (time.perf_counter() - moves_started), 4
                ),
                stream_errors=sum(1 for f in followers if f and f.error),
            )
            async with admin.get(f"{server.base}/metrics") as r:
                samples, late = server.loop_lag(await r.text())
                direct = re.search(r"^orderpulse_direct_streams (\S+)", await r.text(), re.M)
            result.update(
                loop_lag_samples=samples,
                loop_blocks_over_100ms=late,
                direct_write_streams=direct and int(float(direct.group(1))),
            )
            for follower in followers:
                if follower and follower.transport:
                    follower.transport.close()
            for proc in holders:
                proc.stdin.close()
                await proc.wait()
    finally:
        server.stop()
        if db_name:
            drop_database(args.admin_db, db_name)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", "-n", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--moves", type=int, default=100, help="orders moved, one each")
    parser.add_argument("--spacing", type=float, default=0.2, help="seconds between moves")
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=200, help="parallel connects")
    parser.add_argument("--database-url", default=None, help="default: a fresh PostgreSQL db")
    parser.add_argument("--admin-db", default=DEFAULT_ADMIN_DB)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out", default=None)
    parser.add_argument(
        "--per-process", type=int, default=10000, help="streams one client process holds"
    )
    parser.add_argument("--hold", default=None, help=argparse.SUPPRESS)  # PORT:FILE:START:END
    args = parser.parse_args()
    if args.hold:
        port, cookies, start, end = args.hold.split(":")
        raise_nofile(int(end) - int(start) + 1000)
        made = json.loads(Path(cookies).read_text())[int(start) : int(end)]
        asyncio.run(hold(int(port), made, args.concurrency))
        return
    try:
        import uvloop

        result = uvloop.run(run(args))
    except ImportError:
        result = asyncio.run(run(args))
    name = f"customers-{args.streams}-{args.workers}w.json"
    report(result, args.out or ROOT / "bench" / "results" / name)


if __name__ == "__main__":
    main()

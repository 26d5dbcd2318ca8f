"""Reconnect storm: N dashboards on one gevent worker, then ``kill -HUP`` (a deploy).

Each simulated dashboard reconnects the way the page does (``app/static/js/lib/backoff.js``):
on a dropped stream it waits 1 s (doubling to 30 s after failures) plus up to 0.5 s of
jitter, then opens a new stream with ``?last_event_id=`` the newest version it has, so
the server's first frame carries only what it missed. One order is placed 1 s after the
HUP, so "back" means: on a new connection, and holding that order's version.

Reports the time from the HUP until each dashboard is back (p50/p99/max, seconds), every
non-200 answer by status, connection errors, reconnect attempts, and the replacement
worker's CPU per reconnect (its CPU time when every dashboard is back, less what a worker
costs to boot, over the connections opened after the HUP). ``--sessions K`` spreads the
dashboards over K sessions of the admin (made without a login each: ``prepare.py
--cookies``), as K browsers would; the default, one session, is how the figures before it
were taken. 127.0.0.1 only, bounded in count and time.

    python bench/storm_bench.py -n 10000
    python bench/storm_bench.py -n 10000 --sessions 10000
"""

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stream_bench import (  # noqa: E402
    ID_RE,
    PY,
    ROOT,
    Server,
    client_session,
    cookie_header,
    log_in_and_warm_up,
    percentile,
    place_orders,
    raise_nofile,
    report,
    stream_request,
)

BACKOFF_MIN, BACKOFF_MAX = 1.0, 30.0  # seconds, as in app/static/js/lib/backoff.js


class Connection(asyncio.Protocol):
    """One HTTP/1.1 stream: status, then the versions of its frames."""

    def __init__(self, client, request: bytes):
        self.client, self.request = client, request
        self.buffer = b""
        self.status = None
        self.done = asyncio.get_running_loop().create_future()

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes):
        if data.endswith(b"\r\n0\r\n\r\n"):  # the body ended: EventSource reconnects
            self.transport.close()
        buf = self.buffer + data
        if self.status is None:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buffer = buf
                return
            self.status = int(buf.split(b" ", 2)[1])
            if self.status != 200:
                self.client.statuses[self.status] += 1
                self.transport.close()
                return
            buf = buf[end + 4 :]
        cut = buf.rfind(b"\n\n")
        if cut >= 0:
            for match in ID_RE.finditer(buf, 0, cut + 2):
                self.client.saw(int(match.group(1)))
            buf = buf[cut + 2 :]
        self.buffer = buf

    def connection_lost(self, exc):
        if not self.done.done():
            self.done.set_result(exc)


class Dashboard:
    """A reconnecting EventSource client; ``back_at`` is when, after ``storm_at``, it held
    ``target`` on a connection opened after the storm."""

    def __init__(self, shared, cookie: str):
        self.shared, self.cookie = shared, cookie
        self.version = shared.version
        self.connected_since = None
        self.frames = 0  # frames with a version received, over all connections
        self.back_at = None
        self.statuses = shared.statuses

    def saw(self, version: int) -> None:
        self.frames += 1
        self.version = max(self.version, version)
        s = self.shared
        if (
            self.back_at is None
            and s.storm_at is not None
            and s.target is not None
            and self.version >= s.target
            and self.connected_since is not None
            and self.connected_since > s.storm_at
        ):
            self.back_at = time.perf_counter()

    async def run(self):
        loop = asyncio.get_running_loop()
        s, backoff = self.shared, BACKOFF_MIN
        while not s.stopping:
            path = f"/admin/orders/stream?last_event_id={self.version}"
            try:
                self.connected_since = time.perf_counter()
                if s.storm_at is not None:
                    s.connects_after_storm += 1
                _, conn = await loop.create_connection(
                    lambda path=path: Connection(self, stream_request(s.port, self.cookie, path)),
                    "127.0.0.1",
                    s.port,
                )
                await conn.done
                if conn.status == 200:
                    backoff = BACKOFF_MIN
            except OSError:
                s.connect_errors += 1
            if s.stopping:
                return
            s.attempts += 1
            delay = backoff + random.random() * min(1.0, backoff * 0.5)
            backoff = min(backoff * 2, BACKOFF_MAX)
            await asyncio.sleep(delay)


class Shared:
    def __init__(self, port, cookie, version):
        self.port, self.cookie, self.version = port, cookie, version
        self.storm_at = self.target = None
        self.stopping = False
        self.statuses: Counter = Counter()
        self.connect_errors = self.attempts = self.connects_after_storm = 0


def forged_cookies(server, workdir: Path, count: int) -> list[str]:
    """``count`` sessions of the bench admin, each with its cookie (``prepare.py``)."""
    out = workdir / "cookies.json"
    cmd = [PY, str(ROOT / "bench" / "prepare.py"), "--cookies", f"admin:{count}"]
    subprocess.run([*cmd, "--cookies-out", str(out)], env=server.env, check=True, cwd=ROOT)
    return [made["cookie"] for made in json.loads(out.read_text())]


async def replacement(server, old: set[int]):
    """The worker the HUP started (polled until it appears)."""
    while True:
        fresh = [p for p in server.workers() if p.pid not in old]
        if fresh:
            return fresh[0]
        await asyncio.sleep(0.02)


def profile(worker, args) -> subprocess.Popen:
    """py-spy sampling the replacement worker from its first moments (``--profile``): folded
    stacks (``-f raw``) for a flame graph or a grep; without pausing it (``--nonblocking``)."""
    spy = str(Path(PY).parent / "py-spy")
    cmd = [spy, "record", "-p", str(worker.pid), "-o", args.profile, "-f", "raw"]
    return subprocess.Popen([*cmd, "-r", "250", "--nonblocking"], stdout=subprocess.DEVNULL)


async def run(args) -> dict:
    raise_nofile(args.streams + 2000)
    workdir = Path(tempfile.mkdtemp(prefix="orderpulse-storm-"))
    args.redis_url, args.gevent_monitor, args.workers = None, False, 1
    server = Server(args, workdir)
    server.env["SSE_MAX_STREAMS_PER_USER"] = str(args.streams * 2 + 100)
    server.env["SESSION_MAX_PER_USER"] = str(args.sessions + 100)
    server.prepare(args.orders)
    cookies = forged_cookies(server, workdir, args.sessions) if args.sessions > 1 else None
    server.start()
    result: dict = {"dashboards": args.streams, "sessions": args.sessions, "workers": 1}
    try:
        async with client_session() as admin, client_session() as buyer:
            async with admin.get(f"{server.base}/healthz") as r:
                await r.read()
            boot_cpu = server.cpu_seconds()  # a booted worker that served one request
            token, version = await log_in_and_warm_up(server, admin, buyer)
            shared = Shared(server.port, cookie_header(admin), version)
            cookies = cookies or [shared.cookie]
            dashboards = [
                Dashboard(shared, cookies[i % len(cookies)]) for i in range(args.streams)
            ]
            tasks = []
            for i, d in enumerate(dashboards):
                tasks.append(asyncio.create_task(d.run()))
                if i % args.concurrency == args.concurrency - 1:
                    await asyncio.sleep(0.2)
            await wait_for(lambda: all(d.frames for d in dashboards), 300)
            await asyncio.sleep(2)
            result["connected"] = sum(1 for d in dashboards if d.frames)
            result["non_200_before_storm"] = dict(shared.statuses)
            shared.statuses.clear()
            attempts_before, shared.attempts = shared.attempts, 0
            old_workers = {p.pid for p in server.workers()}
            shared.storm_at = time.perf_counter()
            os.kill(server.proc.pid, signal.SIGHUP)
            new_worker = asyncio.create_task(replacement(server, old_workers))
            if args.profile:
                spy = profile(await asyncio.wait_for(asyncio.shield(new_worker), 10), args)
            await asyncio.sleep(1.0)
            shared.target, refused = await order_during_storm(server, buyer, token, version)
            for d in dashboards:  # those already back before the order: re-check
                d.saw(d.version)
            await wait_for(lambda: all(d.back_at for d in dashboards), args.timeout)
            worker = await asyncio.wait_for(new_worker, 5)
            cpu = sum(worker.cpu_times()[:2])
            if args.profile:
                spy.send_signal(signal.SIGINT)  # py-spy writes what it sampled, then exits
                spy.wait(30)
            back = [d.back_at - shared.storm_at for d in dashboards if d.back_at]
            result.update(
                back=len(back),
                not_back=args.streams - len(back),
                back_p50_s=round(percentile(back, 50), 2),
                back_p99_s=round(percentile(back, 99), 2),
                back_max_s=round(max(back, default=float("nan")), 2),
                non_200_answers=dict(shared.statuses),
                connect_errors=shared.connect_errors,
                reconnect_attempts=shared.attempts,
                attempts_before_storm=attempts_before,
                checkouts_refused_during_storm=refused,
                connects_after_hup=shared.connects_after_storm,
                new_worker_cpu_s=round(cpu, 2),
                boot_cpu_s=round(boot_cpu, 2),
                cpu_per_reconnect_ms=round(
                    (cpu - boot_cpu) * 1000 / max(shared.connects_after_storm, 1), 3
                ),
            )
            shared.stopping = True
            for task in tasks:
                task.cancel()
    finally:
        server.stop()
    return result


async def order_during_storm(server, buyer, token, version: int) -> tuple[int, int]:
    """Place the order the dashboards must come back with; a checkout refused meanwhile
    (503 while the workers change over) is sent again, as a shop's customer would, up to
    20 times. Returns ``(its version, refusals)``."""
    for refused in range(20):
        try:
            sent = await place_orders(server, buyer, token, 1, 0, version)
            return sent[0][0], refused
        except RuntimeError as exc:
            print(f"checkout during the storm: {exc}; again in 0.5 s")
            await asyncio.sleep(0.5)
    raise RuntimeError("no checkout went through during the storm")


async def wait_for(check, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not check():
        await asyncio.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", "-n", type=int, default=10000, help="dashboards")
    parser.add_argument("--sessions", type=int, default=1, help="admin sessions they share")
    parser.add_argument("--concurrency", type=int, default=500, help="connects per 0.2 s")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out", default=None)
    parser.add_argument("--profile", default=None, help="py-spy folded stacks of the new worker")
    args = parser.parse_args()
    try:
        import uvloop

        result = uvloop.run(run(args))
    except ImportError:
        result = asyncio.run(run(args))
    name = f"storm-{args.streams}-{args.sessions}.json"
    report(result, args.out or ROOT / "bench" / "results" / name)


if __name__ == "__main__":
    main()

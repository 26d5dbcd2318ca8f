"""Reconnect storm: N dashboards on one gevent worker, then ``kill -HUP`` (a deploy).

Each simulated dashboard reconnects the way the page does (``app/static/js/lib/backoff.js``):
on a dropped stream it waits 1 s (doubling to 30 s after failures) plus up to 0.5 s of
jitter, then opens a new stream with ``?last_event_id=`` the newest version it has, so
the server's first frame carries only what it missed. One order is placed 1 s after the
HUP, so "back" means: on a new connection, and holding that order's version.

Reports the time from the HUP until each dashboard is back (p50/p99/max, seconds), every
non-200 answer by status, connection errors, and reconnect attempts. 127.0.0.1 only,
bounded in count and time.

    python bench/storm_bench.py -n 10000
"""

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stream_bench import (  # noqa: E402
    ID_RE,
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

    def __init__(self, shared):
        self.shared = shared
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
                _, conn = await loop.create_connection(
                    lambda path=path: Connection(self, stream_request(s.port, s.cookie, path)),
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
        self.connect_errors = self.attempts = 0


async def run(args) -> dict:
    raise_nofile(args.streams + 2000)
    workdir = Path(tempfile.mkdtemp(prefix="orderpulse-storm-"))
    args.redis_url, args.gevent_monitor, args.workers = None, False, 1
    server = Server(args, workdir)
    server.env["SSE_MAX_STREAMS_PER_USER"] = str(args.streams * 2 + 100)
    server.prepare(args.orders)
    server.start()
    result: dict = {"dashboards": args.streams, "workers": 1}
    try:
        async with client_session() as admin, client_session() as buyer:
            token, version = await log_in_and_warm_up(server, admin, buyer)
            shared = Shared(server.port, cookie_header(admin), version)
            dashboards = [Dashboard(shared) for _ in range(args.streams)]
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
            shared.storm_at = time.perf_counter()
            server.hup()
            await asyncio.sleep(1.0)
            sent = await place_orders(server, buyer, token, 1, 0, version)
            shared.target = sent[0][0]
            for d in dashboards:  # those already back before the order: re-check
                d.saw(d.version)
            await wait_for(lambda: all(d.back_at for d in dashboards), args.timeout)
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
            )
            shared.stopping = True
            for task in tasks:
                task.cancel()
    finally:
        server.stop()
    return result


async def wait_for(check, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not check():
        await asyncio.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", "-n", type=int, default=10000, help="dashboards")
    parser.add_argument("--concurrency", type=int, default=500, help="connects per 0.2 s")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    try:
        import uvloop

        result = uvloop.run(run(args))
    except ImportError:
        result = asyncio.run(run(args))
    report(result, args.out or ROOT / "bench" / "results" / f"storm-{args.streams}.json")


if __name__ == "__main__":
    main()

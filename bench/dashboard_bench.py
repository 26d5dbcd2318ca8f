"""N dashboards that behave like the real page script, one change a second.

Each simulated dashboard opens its stream from the version its page was rendered with
(``?last_event_id=``, as ``stream-source.js`` does) and then makes, for every frame it
receives, the requests the real script makes for it: the list in
``app/static/js/dashboard/requests.json`` (``on_change`` for each update, ``on_reset`` for a
reset), which the script, this harness and ``tests/browser/test_push.py`` all follow.
Meanwhile a customer places one order a second through ``POST /api/orders``.

Reports requests per change per dashboard, delivery p50/p99/max (ms, from sending the
checkout request to each dashboard receiving the frame with that version), missed
deliveries, and the worker's busy CPU over the changes (cores). One gevent worker unless
``--workers``; 127.0.0.1 only, bounded in count and time.

    python bench/dashboard_bench.py -n 1000 --changes 30
"""

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stream_bench import (  # noqa: E402
    ROOT,
    Server,
    client_session,
    cookie_header,
    deliveries,
    log_in_and_warm_up,
    open_streams,
    percentile,
    place_orders,
    raise_nofile,
    report,
)

REQUESTS = json.loads((ROOT / "app/static/js/dashboard/requests.json").read_text())
TYPE_RE = re.compile(rb'"type":"(initial|update|reset)"')


class Dashboards:
    """The requests the simulated dashboards make, replayed from requests.json."""

    def __init__(self, http, base: str, version: int):
        self.http, self.base, self.version = http, base, version
        self.made = 0
        self.changes_seen = 0
        self.tasks: set[asyncio.Task] = set()

    def on_frames(self, _index):
        def handle(block: bytes):
            for kind in TYPE_RE.findall(block):
                trigger = {b"update": "on_change", b"reset": "on_reset"}.get(kind)
                if trigger is None:
                    continue
                self.changes_seen += kind == b"update"
                for request in REQUESTS[trigger]:
                    task = asyncio.ensure_future(self.replay(request))
                    self.tasks.add(task)
                    task.add_done_callback(self.tasks.discard)

        return handle

    async def replay(self, request: str) -> None:
        method, path = request.split(" ", 1)
        path = path.replace("{version}", str(self.version)).replace("{view}", "")
        self.made += 1
        async with self.http.request(method, self.base + path) as r:
            await r.read()


async def run(args) -> dict:
    raise_nofile(args.streams + 2000)
    workdir = Path(tempfile.mkdtemp(prefix="orderpulse-dash-"))
    args.redis_url = None
    args.gevent_monitor = False
    server = Server(args, workdir)
    server.prepare(args.orders)
    server.start()
    result: dict = {"client": "dashboard (requests.json)", "dashboards": args.streams}
    try:
        async with client_session() as admin, client_session() as buyer:
            token, version = await log_in_and_warm_up(server, admin, buyer)
            dashboards = Dashboards(admin, server.base, version)
            streams, _, errors, took = await open_streams(
                server,
                cookie_header(admin),
                args.streams,
                args.concurrency,
                path=f"/admin/orders/stream?last_event_id={version}",
                on_frames=dashboards.on_frames,
            )
            held = sum(1 for s in streams if s.error is None and s.first.done())
            result.update(held=held, connect_errors=len(errors), connect_s=round(took, 1))
            await asyncio.sleep(2)
            cpu0, started = server.cpu_seconds(), time.perf_counter()
            sent = await place_orders(server, buyer, token, args.changes, 1.0, version)
            await asyncio.sleep(args.settle)
            busy = (server.cpu_seconds() - cpu0) / (time.perf_counter() - started)
            live = [s for s in streams if s.first.done() and not s.first.exception()]
            latencies, missed = deliveries(live, sent)
            result.update(
                changes=args.changes,
                page_requests=dashboards.made,
                requests_per_change_per_dashboard=round(
                    dashboards.made / max(1, args.changes * held), 4
                ),
                deliveries=len(latencies),
                missed=missed,
                p50_ms=round(percentile(latencies, 50), 1),
                p99_ms=round(percentile(latencies, 99), 1),
                max_ms=round(max(latencies, default=float("nan")), 1),
                busy_cpu_cores=round(busy, 3),
                stream_errors=sum(1 for s in streams if s.error),
            )
            for s in streams:
                if s.transport:
                    s.transport.close()
    finally:
        server.stop()
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", "-n", type=int, default=1000, help="dashboards")
    parser.add_argument("--changes", type=int, default=30, help="orders, one a second")
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--orders", type=int, default=1000, help="past orders in the database")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    try:
        import uvloop

        result = uvloop.run(run(args))
    except ImportError:
        result = asyncio.run(run(args))
    report(result, args.out or ROOT / "bench" / "results" / f"dashboards-{args.streams}.json")


if __name__ == "__main__":
    main()

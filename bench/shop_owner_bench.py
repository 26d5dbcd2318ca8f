"""1,000 dashboards while admins write notes and change tags on top of the orders.

Like ``dashboard_bench.py`` (each simulated dashboard replays the requests the real page
script makes per frame, ``app/static/js/dashboard/requests.json``), with three writers in
turn, one write every third of a second: a customer's checkout (1 order/s), an admin's
internal note (1/s) and an admin's tag change (1/s) on existing orders. Saved views (shared,
``--views``) make every tick that can move a count recount them, as in production.

Each write commits as the next version (the writers take turns, one at a time), so the
delivery latency of a write is from sending its request to each dashboard receiving the
frame with that version (``id:``). Reports delivery p50/p99/max (ms) by kind of write and in
all, missed deliveries, requests per change per dashboard and the worker's busy CPU. One
gevent worker; 127.0.0.1 only, bounded in count and time.

    python bench/shop_owner_bench.py -n 1000 --seconds 30
"""

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dashboard_bench import Dashboards  # noqa: E402
from stream_bench import (  # noqa: E402
    ROOT,
    Server,
    client_session,
    cookie_header,
    deliveries,
    log_in_and_warm_up,
    open_streams,
    percentile,
    raise_nofile,
    report,
)

CHECKOUT = {"items": [{"product_id": 1, "quantity": 1}], "delivery_method": "pickup"}


async def csrf(http, base: str) -> str:
    async with http.get(f"{base}/admin/products") as r:
        text = await r.text()
    return text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


async def write(kind: str, i: int, server, admin, buyer, tokens) -> None:
    """One write of ``kind``; raises on anything but success."""
    base = server.base
    if kind == "order":
        request = buyer.post(f"{base}/api/orders", json=CHECKOUT, headers=tokens["buyer"])
    elif kind == "note":
        body = {"text": f"Bench note {i}: customer asked for a call before delivery"}
        request = admin.post(
            f"{base}/admin/api/order/{1 + i % 50}/notes", json=body, headers=tokens["admin"]
        )
    else:
        # Added to an order, then removed from it: every tag write is a change (a version).
        change = {"add": ["bench"]} if (i // 3) % 2 == 0 else {"remove": ["bench"]}
        i = i // 6
        request = admin.post(
            f"{base}/admin/api/order/{1 + i % 50}/tags", json=change, headers=tokens["admin"]
        )
    async with request as r:
        if r.status not in (200, 201):
            raise RuntimeError(f"{kind} failed: HTTP {r.status} {await r.text()}")
        if kind == "tag" and not (await r.json())["changed"]:
            raise RuntimeError("a tag write changed nothing: the versions would drift")


async def writes(server, admin, buyer, tokens, seconds: int, version: int):
    """Checkout, note, tag in turn, one every 1/3 s: ``[(kind, target version, sent_at)]``."""
    sent, kinds = [], ("order", "note", "tag")
    for i in range(seconds * 3):
        kind = kinds[i % 3]
        started = time.perf_counter()
        await write(kind, i, server, admin, buyer, tokens)
        sent.append((kind, version + i + 1, started))
        await asyncio.sleep(max(0.0, 1 / 3 - (time.perf_counter() - started)))
    return sent


async def save_views(server, admin, token: dict, n: int) -> None:
    queries = ["status=Pending", "tag=bench", "status=Shipped", "range=today", "q=ORD"]
    for i in range(n):
        body = {"name": f"Bench view {i}", "query": queries[i % len(queries)], "shared": True}
        async with admin.post(f"{server.base}/admin/api/views", json=body, headers=token) as r:
            if r.status != 201:
                raise RuntimeError(f"saving a view failed: HTTP {r.status} {await r.text()}")


async def run(args) -> dict:
    raise_nofile(args.streams + 2000)
    workdir = Path(tempfile.mkdtemp(prefix="orderpulse-owner-"))
    args.redis_url, args.gevent_monitor = None, False
    server = Server(args, workdir)
    server.prepare(args.orders)
    server.start()
    result: dict = {"client": "dashboard (requests.json)", "dashboards": args.streams}
    try:
        async with client_session() as admin, client_session() as buyer:
            buyer_token, _ = await log_in_and_warm_up(server, admin, buyer)
            tokens = {
                "buyer": {"X-CSRFToken": buyer_token},
                "admin": {"X-CSRFToken": await csrf(admin, server.base)},
            }
            await save_views(server, admin, tokens["admin"], args.views)
            async with admin.get(f"{server.base}/admin/api/order-updates?minutes=1") as r:
                version = (await r.json())["stats"]["version"]
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
            sent = await writes(server, admin, buyer, tokens, args.seconds, version)
            await asyncio.sleep(args.settle)
            busy = (server.cpu_seconds() - cpu0) / (time.perf_counter() - started)
            live = [s for s in streams if s.first.done() and not s.first.exception()]
            all_latencies, all_missed = [], 0
            for kind in ("order", "note", "tag"):
                mine = [(v, t) for k, v, t in sent if k == kind]
                latencies, missed = deliveries(live, mine)
                all_latencies += latencies
                all_missed += missed
                result[f"{kind}_p50_ms"] = round(percentile(latencies, 50), 1)
                result[f"{kind}_p99_ms"] = round(percentile(latencies, 99), 1)
            result.update(
                writes=len(sent),
                views=args.views,
                page_requests=dashboards.made,
                requests_per_change_per_dashboard=round(
                    dashboards.made / max(1, len(sent) * held), 4
                ),
                deliveries=len(all_latencies),
                missed=all_missed,
                p50_ms=round(percentile(all_latencies, 50), 1),
                p99_ms=round(percentile(all_latencies, 99), 1),
                max_ms=round(max(all_latencies, default=float("nan")), 1),
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
    parser.add_argument("--seconds", type=int, default=30, help="of writes: 3 a second")
    parser.add_argument("--views", type=int, default=10, help="shared saved views")
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
    report(result, args.out or ROOT / "bench" / "results" / f"shop-owner-{args.streams}.json")


if __name__ == "__main__":
    main()

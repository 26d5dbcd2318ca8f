"""Admin tools under load: a bulk action on 500 orders and the CSV export of a
million orders, on a real gunicorn gevent server with N dashboards streaming.

1. Bulk: the ids of 500 Pending orders come from ``GET /admin/api/orders/ids`` (the
   "select all matching" call), then one ``POST /admin/api/orders/bulk`` advances them,
   each with the status the page showed (``from``), ``--bulk-runs`` times on the next 500
   each time; then one bulk cancel of 500 Pending orders with one reason. Prints each
   request's wall time (beside ``--bulk-streams`` open dashboards) and their median; then
   checks the dashboards: every open stream reaches the version after the bulk actions,
   and ``order_counts`` equals a recount of ``orders``. Each moved order is one ``event:
   order`` frame to every dashboard, so with 1,000 dashboards the fan-out of 500 frames
   (~300 KB per stream) shares the worker with the bulk request. ``--phases bulk`` skips
   the export (and ``--orders 20000`` then makes the database in seconds).
2. CSV: ``GET /admin/orders.csv`` of every order (``--orders``, default 1,000,000, each
   with one or two items), read by a separate process. Prints rows/s, the worker's
   RSS before, at its peak and after (sampled every 0.1 s), and, for orders placed every
   ``--spacing`` s through ``POST /api/orders`` while the export runs, the delivery time
   to every open stream: from sending the checkout to the frame with its version (an upper
   bound: it includes the checkout's own time in the busy worker) and from the checkout's
   answer (a lower bound on commit to frame).

Servers, logins, streams and order placement are stream_bench's; the database is made by
prepare.py (``--orders N --items``) in a fresh PostgreSQL database unless
``--database-url`` points at a prepared one (``--no-prepare``). Traffic stays on 127.0.0.1
and every phase is bounded in time.
"""

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checkout_bench import DEFAULT_ADMIN_DB, fresh_database  # noqa: E402
from stream_bench import (  # noqa: E402
    CSRF_RE,
    PY,
    ROOT,
    USER_AGENT,
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

STAT_ROWS = {
    "Pending": "pending_count",
    "Shipped": "shipped_count",
    "Out for Delivery": "out_for_delivery",
    "Delivered": "delivered_count",
}


def recount(database_url: str) -> dict:
    """The stats a full scan of ``orders`` gives (what ``order_counts`` must equal)."""
    conninfo = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT status, cancelled, count(*) FROM orders GROUP BY status, cancelled"
        ).fetchall()
    stats = dict.fromkeys([*STAT_ROWS.values(), "cancelled_count"], 0)
    for status, cancelled, count in rows:
        stats["cancelled_count" if cancelled else STAT_ROWS[status]] += count
    stats["total_orders"] = sum(stats.values())
    return stats


def buckets(metrics_text: str, name: str) -> dict[str, float]:
    """``{le: cumulative count}`` of histogram ``name`` in a /metrics text."""
    pattern = rf'^{name}_bucket\{{le="([^"]+)"\}} (\S+)$'
    return {le: float(n) for le, n in re.findall(pattern, metrics_text, re.M)}


def bucket_share(before: dict, after: dict, le: str) -> str:
    """``"k/n"``: of the samples taken between two readings, how many were within ``le``."""
    total = after.get("+Inf", 0) - before.get("+Inf", 0)
    within = after.get(le, 0) - before.get(le, 0)
    return f"{int(within)}/{int(total)}"


async def metrics(server, admin) -> str:
    async with admin.get(f"{server.base}/metrics") as r:
        return await r.text()


async def stats_of(server, admin) -> dict:
    async with admin.get(f"{server.base}/admin/api/order-updates?minutes=1") as r:
        return (await r.json())["stats"]


async def wait_for_version(streams, version: int, timeout: float) -> int:
    """How many streams have seen ``version`` within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(s.seen and s.seen[-1][0] >= version for s in streams):
            break
        await asyncio.sleep(0.05)
    return sum(1 for s in streams if s.seen and s.seen[-1][0] >= version)


async def bulk_request(server, admin, token, body) -> tuple[dict, float]:
    """One ``POST /admin/api/orders/bulk``: ``(answer, wall seconds)``."""
    started = time.perf_counter()
    async with admin.post(
        f"{server.base}/admin/api/orders/bulk", json=body, headers={"X-CSRFToken": token}
    ) as r:
        answer = await r.json()
        if r.status != 200:
            raise RuntimeError(f"bulk failed: HTTP {r.status} {answer}")
    return answer, time.perf_counter() - started


async def pending_ids(server, admin) -> list[int]:
    """The first 500 Pending orders, oldest first ("select all matching")."""
    query = "status=Pending&sort=ordered&dir=asc"
    async with admin.get(f"{server.base}/admin/api/orders/ids?{query}") as r:
        return (await r.json())["ids"]


async def bulk_phase(server, admin, token, streams, database_url, runs: int) -> dict:
    advances, succeeded = [], []
    for _ in range(runs):
        ids = await pending_ids(server, admin)
        # The status each order showed on the page, as the dashboard sends it.
        seen = {str(i): "Pending" for i in ids}
        answer, took = await bulk_request(
            server, admin, token, {"ids": ids, "action": "advance", "from": seen}
        )
        advances.append(round(took, 3))
        succeeded.append(answer.get("succeeded"))
    ids = await pending_ids(server, admin)
    body = {
        "ids": ids,
        "action": "cancel",
        "reason": "Bench",
        "from": {str(i): "Pending" for i in ids},
    }
    cancelled, cancel_took = await bulk_request(server, admin, token, body)
    stats = await stats_of(server, admin)
    reached = await wait_for_version(streams, stats["version"], timeout=10)
    truth = recount(database_url)
    return {
        "bulk_ids": len(ids),
        "bulk_succeeded": succeeded,
        "bulk_advance_seconds": advances,
        "bulk_advance_median_seconds": statistics.median(advances),
        "bulk_cancel_succeeded": cancelled.get("succeeded"),
        "bulk_cancel_seconds": round(cancel_took, 3),
        "bulk_streams_at_final_version": f"{reached}/{len(streams)}",
        "bulk_counts_equal_recount": {k: stats[k] for k in truth} == truth,
    }


async def csv_phase(server, admin, buyer, token, streams, spacing: float) -> dict:
    version = (await stats_of(server, admin))["version"]
    rss = [server.rss()]
    done = asyncio.Event()
    checkouts: list[float] = []
    committed: list[tuple[int, float]] = []  # (version, when its checkout was answered)

    async def sample():
        while not done.is_set():
            rss.append(server.rss())
            await asyncio.sleep(0.1)

    async def export():
        # In a process of its own: reading 50 MB/s in this event loop would delay the
        # streams' frames here and inflate the delivery times measured.
        reader = await asyncio.create_subprocess_exec(
            PY,
            __file__,
            "download",
            f"{server.base}/admin/orders.csv",
            cookie_header(admin),
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await reader.communicate()
        done.set()
        rows, size, took = json.loads(out)
        return rows, size, took

    async def orders():
        sent, body = [], {"items": [{"product_id": 1, "quantity": 1}], "delivery_method": "pickup"}
        while not done.is_set() and len(sent) < 1000:
            started = time.perf_counter()
            async with buyer.post(
                f"{server.base}/api/orders", json=body, headers={"X-CSRFToken": token}
            ) as r:
                if r.status != 201:
                    raise RuntimeError(f"checkout failed: HTTP {r.status}")
            answered = time.perf_counter()
            checkouts.append((answered - started) * 1000)
            sent.append((version + len(sent) + 1, started))
            committed.append((version + len(committed) + 1, answered))
            await asyncio.sleep(spacing)
        return sent

    before = await metrics(server, admin)
    sampler = asyncio.create_task(sample())
    (rows, size, took), sent = await asyncio.gather(export(), orders())
    await sampler
    await asyncio.sleep(2)  # the last order's frame
    rss.append(server.rss())
    after = await metrics(server, admin)
    lag = [buckets(t, "orderpulse_event_loop_lag_seconds") for t in (before, after)]
    fanout = [buckets(t, "orderpulse_publish_delivery_seconds") for t in (before, after)]
    latencies, missed = deliveries(streams, sent)
    # From the checkout's answer instead of its request: a lower bound on commit→frame
    # (the commit precedes the answer), free of the checkout's own time in the busy worker.
    after_answer, _ = deliveries(streams, committed)
    return {
        "csv_rows": rows,
        "csv_mb": round(size / 2**20, 1),
        "csv_seconds": round(took, 1),
        "csv_rows_per_s": round(rows / took),
        "worker_rss_mb_before": round(rss[0] / 2**20, 1),
        "worker_rss_mb_peak": round(max(rss) / 2**20, 1),
        "worker_rss_mb_after": round(rss[-1] / 2**20, 1),
        "orders_during_export": len(sent),
        "checkout_p50_ms": round(percentile(checkouts, 50), 1),
        "checkout_p99_ms": round(percentile(checkouts, 99), 1),
        "delivery_p50_ms": round(percentile(latencies, 50), 1),
        "delivery_p99_ms": round(percentile(latencies, 99), 1),
        "delivery_max_ms": round(max(latencies, default=float("nan")), 1),
        "missed": missed,
        "delivery_after_answer_p50_ms": round(percentile(after_answer, 50), 1),
        "delivery_after_answer_p99_ms": round(percentile(after_answer, 99), 1),
        # Server side, from /metrics: how late the loop's 0.25 s timer fired, and the time
        # from an order's publish (after commit) to its frame handed to every stream.
        "loop_lag_within_25ms": bucket_share(*lag, "0.025"),
        "loop_lag_within_100ms": bucket_share(*lag, "0.1"),
        "publish_to_fanout_within_50ms": bucket_share(*fanout, "0.05"),
        "publish_to_fanout_within_250ms": bucket_share(*fanout, "0.25"),
    }


async def run(args, server) -> dict:
    result = {"orders_in_db": args.orders, "streams": args.streams}
    async with client_session() as admin, client_session() as buyer:
        buyer_token, _ = await log_in_and_warm_up(server, admin, buyer)
        async with admin.get(f"{server.base}/orders") as r:
            admin_token = CSRF_RE.search(await r.text()).group(1)
        # The bulk action runs beside --bulk-streams dashboards; the export beside all.
        cookie, streams = cookie_header(admin), []
        counts = [min(args.bulk_streams, args.streams)]
        if "csv" in args.phases:
            counts.append(args.streams - args.bulk_streams)
        for count in counts:
            opened, _, _, _ = await open_streams(server, cookie, max(count, 0), args.concurrency)
            streams += opened
            live = [s for s in streams if s.error is None and s.first.done()]
            await asyncio.sleep(1)
            if "bulk" in args.phases and "bulk_streams" not in result:
                result["bulk_streams"] = len(live)
                result.update(
                    await bulk_phase(
                        server, admin, admin_token, live, args.database_url, args.bulk_runs
                    )
                )
        result["streams_held"] = len(live)
        if "csv" in args.phases:
            result.update(await csv_phase(server, admin, buyer, buyer_token, live, args.spacing))
        result["stream_errors"] = sum(1 for s in streams if s.error)
        for s in streams:
            if s.transport:
                s.transport.close()
    return result


def download(url: str, cookie: str) -> None:
    """Read ``url`` to the end; print ``[csv rows, bytes, seconds]`` as JSON."""
    request = urllib.request.Request(url, headers={"Cookie": cookie, "User-Agent": USER_AGENT})
    started, size, lines = time.perf_counter(), 0, 0
    with urllib.request.urlopen(request, timeout=60) as r:
        while chunk := r.read(1 << 16):
            size += len(chunk)
            lines += chunk.count(b"\n")  # bench orders have no multi-line cells
    print(json.dumps([lines - 1, size, time.perf_counter() - started]))


def main() -> None:
    if sys.argv[1:2] == ["download"]:
        return download(*sys.argv[2:4])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders in the database")
    parser.add_argument("--streams", "-n", type=int, default=1000, help="open dashboards")
    parser.add_argument("--bulk-streams", type=int, default=50, help="dashboards during bulk")
    parser.add_argument("--bulk-runs", type=int, default=3, help="bulk advances of 500, timed")
    parser.add_argument(
        "--phases", default="bulk,csv", help="comma-separated: bulk, csv (default both)"
    )
    parser.add_argument("--spacing", type=float, default=0.5, help="s between orders (csv)")
    parser.add_argument("--concurrency", type=int, default=200, help="parallel connects")
    parser.add_argument("--database-url", default=None, help="default: a fresh PG database")
    parser.add_argument("--no-prepare", action="store_true", help="the database is ready")
    parser.add_argument("--admin-db", default=DEFAULT_ADMIN_DB, help="libpq URL to create DBs")
    parser.add_argument("--out", default=None)
    parser.add_argument("--keep-db", action="store_true", help="keep the fresh database")
    args = parser.parse_args()
    args.phases = set(args.phases.split(","))
    made = None
    if not args.database_url:
        made = f"orderpulse_tools_{os.getpid()}"
        args.database_url = fresh_database(args.admin_db, made)
    args.redis_url, args.gevent_monitor, args.port, args.workers = None, False, 0, 1
    raise_nofile(args.streams + 2000)
    server = Server(args, Path(tempfile.mkdtemp(prefix="orderpulse-tools-")))
    if not args.no_prepare:
        cmd = [PY, str(ROOT / "bench" / "prepare.py"), "--orders", str(args.orders), "--items"]
        subprocess.run(cmd, env=server.env, check=True, cwd=ROOT)
    server.start()
    try:
        result = asyncio.run(run(args, server))
    finally:
        server.stop()
        if made and not args.keep_db:
            with psycopg.connect(args.admin_db, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{made}" WITH (FORCE)')
        elif made:
            print(f"kept {args.database_url}")
    report(result, args.out or ROOT / "bench" / "results" / "admin-tools.json")


if __name__ == "__main__":
    main()

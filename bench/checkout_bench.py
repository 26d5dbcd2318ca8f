"""Checkout throughput: C concurrent customers placing orders through ``POST /api/orders``
against a fresh gunicorn gevent server on PostgreSQL (127.0.0.1 only, bounded in time).

Reports orders/s, request latency (p50/p99/max, ms), errors by status, and whether
``order_counts`` still equals the orders afterwards. Writes JSON to ``bench/results/``.

    python bench/checkout_bench.py --customers 50 --seconds 15 --workers 2
"""

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import aiohttp
import psutil
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from prepare import CUSTOMER  # noqa: E402
from stream_bench import (  # noqa: E402
    ADMIN,
    ROOT,
    Server,
    client_session,
    login,
    percentile,
    report,
)

DEFAULT_ADMIN_DB = "postgresql://postgres@127.0.0.1:5432/test"


def fresh_database(admin_url: str, name: str) -> str:
    """Create an empty database ``name``; returns its SQLAlchemy (psycopg 3) URL."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


def drop_database(admin_url: str, name: str) -> None:
    """Drop database ``name`` (a benchmark's own, made by ``fresh_database``)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def customer(base, name, ready, go, stop, latencies, statuses) -> None:
    async with client_session(limit=2) as http:
        token = await login(http, base, name, CUSTOMER[1])
        body = {"items": [{"product_id": 1, "quantity": 1}], "delivery_method": "pickup"}
        ready.append(name)
        await go.wait()
        while not stop.is_set():
            headers = {"X-CSRFToken": token, "Idempotency-Key": uuid.uuid4().hex}
            started = time.perf_counter()
            try:
                async with http.post(f"{base}/api/orders", json=body, headers=headers) as r:
                    await r.read()
                    statuses[r.status] += 1
            except aiohttp.ClientError as exc:
                statuses[type(exc).__name__] += 1
                continue
            latencies.append((time.perf_counter() - started) * 1000)


async def run(args, server: Server) -> dict:
    """Log every customer in (scrypt is slow on purpose), then start the clock: each one
    places orders back to back for ``args.seconds``."""
    latencies: list[float] = []
    statuses: Counter = Counter()
    ready: list[str] = []
    go, stop = asyncio.Event(), asyncio.Event()
    async with client_session(limit=2) as admin:
        await login(admin, server.base, *ADMIN)
        names = [f"buyer{i}" for i in range(1, args.customers + 1)]
        tasks = [
            asyncio.create_task(customer(server.base, n, ready, go, stop, latencies, statuses))
            for n in names
        ]
        while len(ready) < len(names):
            await asyncio.sleep(0.05)
        before = await stats(admin, server.base)
        cpu_before = cpu_split(server)
        go.set()
        started = time.perf_counter()
        await asyncio.sleep(args.seconds)
        stop.set()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
        cpu_after = cpu_split(server)
        after = await stats(admin, server.base)
    created = statuses.get(201, 0)
    per_order = (
        {
            f"cpu_ms_per_order_{name}": round(
                (cpu_after[name] - cpu_before[name]) * 1000 / created, 2
            )
            for name in cpu_before
        }
        if created
        else {}
    )
    return {
        "customers": args.customers,
        "workers": args.workers,
        "seconds": round(elapsed, 1),
        "orders_per_second": round(created / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies, default=float("nan")), 1),
        "statuses": dict(statuses),
        "orders_counted": after["total_orders"] - before["total_orders"],
        "orders_created_201": created,
        **per_order,
    }


def cpu_split(server: Server) -> dict[str, float]:
    """CPU seconds so far (user + system) of the gunicorn workers, every PostgreSQL
    process, and this harness: where each order's cost goes on a shared machine."""

    def cpu(procs) -> float:
        total = 0.0
        for proc in procs:
            with contextlib.suppress(psutil.Error):  # a process that just exited
                total += sum(proc.cpu_times()[:2])
        return total

    postgres = [p for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres"]
    return {
        "workers": cpu(server.workers()),
        "postgres": cpu(postgres),
        "harness": cpu([psutil.Process()]),
    }


async def stats(http, base) -> dict:
    async with http.get(f"{base}/admin/api/order-updates?minutes=1") as r:
        return (await r.json())["stats"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--admin-db", default=DEFAULT_ADMIN_DB, help="libpq URL to create DBs")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    args.database_url = fresh_database(args.admin_db, f"orderpulse_bench_{os.getpid()}")
    args.redis_url, args.gevent_monitor, args.port, args.streams = None, False, 0, 100
    workdir = Path(tempfile.mkdtemp(prefix="orderpulse-checkout-"))
    server = Server(args, workdir)
    server.prepare(0, customers=args.customers)
    server.start()
    try:
        result = asyncio.run(run(args, server))
    finally:
        server.stop()
    report(result, args.out or ROOT / "bench" / "results" / "checkout.json")


if __name__ == "__main__":
    main()

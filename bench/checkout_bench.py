"""Checkout throughput: C concurrent customers placing orders through ``POST /api/orders``
against a fresh gunicorn gevent server on PostgreSQL (127.0.0.1 only, bounded in time).

Reports orders/s, request latency (p50/p99/max, ms), errors by status, CPU per order of
the workers, PostgreSQL and this harness, and whether the counters still equal the orders
afterwards. ``--redis-url`` runs the workers with Redis (as in production with several
workers); ``--lock-hold`` runs them with ``bench/lock_hold_gunicorn.conf.py``, which times
how long each transaction holds the counter rows and the version row (p50/p99/mean, ms).
``--items`` lines per order, ``--stock`` units of each product (tracked stock: every order
then takes stock with one conditional ``UPDATE``). Writes JSON to ``bench/results/``.

    python bench/checkout_bench.py --customers 50 --seconds 15 --workers 2 \
        --redis-url redis://127.0.0.1:6379/0 --lock-hold
"""

import argparse
import asyncio
import contextlib
import json
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


def set_stock(database_url: str, units: int | None) -> None:
    """Give every bench product ``units`` in stock (``None``: not tracked)."""
    url = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE products SET stock = %s", (units,))


async def customer(base, name, ready, go, stop, latencies, statuses, items=1) -> None:
    async with client_session(limit=2) as http:
        token = await login(http, base, name, CUSTOMER[1])
        lines = [{"product_id": 1 + i, "quantity": 1} for i in range(items)]
        body = {"items": lines, "delivery_method": "pickup"}
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
            asyncio.create_task(
                customer(server.base, n, ready, go, stop, latencies, statuses, args.items)
            )
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
        "redis": bool(args.redis_url),
        "items_per_order": args.items,
        "stock": args.stock,
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


def lock_holds(folder: Path) -> dict:
    """p50 / p99 / mean (ms) and count of every sample the workers' probes wrote."""
    merged: dict[str, list[float]] = {}
    for path in folder.glob("*.json"):
        for key, values in json.loads(path.read_text()).items():
            merged.setdefault(key, []).extend(values)
    out = {}
    for key, values in sorted(merged.items()):
        if values:
            out[key] = (
                f"p50 {percentile(values, 50):.2f} / p99 {percentile(values, 99):.2f} / "
                f"mean {sum(values) / len(values):.2f} (n={len(values)})"
            )
    return out


async def stats(http, base) -> dict:
    async with http.get(f"{base}/admin/api/order-updates?minutes=1") as r:
        return (await r.json())["stats"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--admin-db", default=DEFAULT_ADMIN_DB, help="libpq URL to create DBs")
    parser.add_argument("--redis-url", default=None, help="run the workers with Redis")
    parser.add_argument("--lock-hold", action="store_true", help="time the counter locks")
    parser.add_argument("--items", type=int, default=1, choices=range(1, 6), help="lines")
    parser.add_argument("--stock", type=int, default=None, help="units of each product")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    args.database_url = fresh_database(args.admin_db, f"orderpulse_bench_{os.getpid()}")
    args.gevent_monitor, args.port, args.streams = False, 0, 100
    workdir = Path(tempfile.mkdtemp(prefix="orderpulse-checkout-"))
    holds = workdir / "lock-hold"
    if args.lock_hold:
        holds.mkdir()
        os.environ["BENCH_GUNICORN_CONF"] = str(ROOT / "bench" / "lock_hold_gunicorn.conf.py")
        os.environ["BENCH_LOCK_HOLD_DIR"] = str(holds)
    server = Server(args, workdir)
    server.prepare(0, customers=args.customers)
    set_stock(args.database_url, args.stock)
    server.start()
    try:
        result = asyncio.run(run(args, server))
    finally:
        server.stop()
    if args.lock_hold:
        result.update(lock_holds(holds))
    report(result, args.out or ROOT / "bench" / "results" / "checkout.json")


if __name__ == "__main__":
    main()

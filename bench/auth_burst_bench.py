"""Password hashing beside open streams: a burst of concurrent
registrations and logins next to N open admin streams, on one gunicorn gevent worker.

Starts a fresh server (``stream_bench.Server``; SQLite in a temp dir unless
``--database-url``; real scrypt hashes, rate limits off), opens N streams, and runs two
phases of the same length:

- idle: orders placed ``--spacing`` s apart through ``POST /api/orders``, nothing else;
- burst: the same, while ``--registrations`` new customers register and ``--logins``
  existing ones log in, all at once (each POST costs one scrypt hash on the server).

For each phase: stream delivery (checkout request sent → the frame with the new version
received, over all streams × orders) p50 / p99 / max in ms, and ``GET /healthz`` latency
sampled every 20 ms, p50 / p99 / max in ms; for the burst, the time until every
registration and login was answered, and their answers. ``--hash-threads 0`` hashes on the
event loop instead (what the server did before), for comparison.

Prints a table and writes JSON to ``bench/results/``. Traffic stays on 127.0.0.1; every
phase is bounded in count and time.
"""

import argparse
import asyncio
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from prepare import CUSTOMER  # noqa: E402
from stream_bench import (  # noqa: E402
    CSRF_RE,
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


async def sample_healthz(http, base: str, out: list[float], stop: asyncio.Event) -> None:
    """``GET /healthz`` every 20 ms until ``stop``; latencies in ms."""
    while not stop.is_set():
        started = time.perf_counter()
        async with http.get(f"{base}/healthz") as r:
            await r.read()
        out.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.02)


async def orders_until(server, buyer, token, version: int, spacing: float, done, minimum: int):
    """Place orders ``spacing`` s apart until ``done()`` and at least ``minimum`` were placed;
    returns ``[(target_version, sent_at)]`` as ``stream_bench.place_orders`` does."""
    body = {"items": [{"product_id": 1, "quantity": 1}], "delivery_method": "pickup"}
    sent = []
    while len(sent) < minimum or not done():
        started = time.perf_counter()
        async with buyer.post(
            f"{server.base}/api/orders", json=body, headers={"X-CSRFToken": token}
        ) as r:
            if r.status != 201:
                raise RuntimeError(f"checkout failed: HTTP {r.status} {await r.text()}")
        version += 1
        sent.append((version, started))
        await asyncio.sleep(spacing)
    return sent


async def auth_burst(base: str, registrations: int, logins: int, run_id: str) -> dict:
    """Fetch each form's CSRF token first, then send every POST at once. Returns the
    answers' statuses and each request's latency (ms)."""
    sessions = [client_session() for _ in range(registrations + logins)]
    posts = []
    try:
        for i, http in enumerate(sessions):
            path = "/auth/register" if i < registrations else "/auth/login"
            async with http.get(f"{base}{path}") as r:
                token = CSRF_RE.search(await r.text()).group(1)
            if i < registrations:
                name, password = f"burst{run_id}x{i}", "burst-password-1"
                form = {"email": f"{name}@bench.example.com", "confirm": password}
            else:
                name, password, form = f"buyer{i - registrations + 1}", CUSTOMER[1], {}
            form.update(csrf_token=token, username=name, password=password)
            posts.append((http, path, form))

        async def post(http, path, form):
            started = time.perf_counter()
            async with http.post(f"{base}{path}", data=form, allow_redirects=False) as r:
                await r.read()
                return r.status, (time.perf_counter() - started) * 1000

        started = time.perf_counter()
        answers = await asyncio.gather(*(post(*p) for p in posts))
        took = time.perf_counter() - started
    finally:
        for http in sessions:
            await http.close()
    statuses: dict[str, int] = {}
    for status, _ in answers:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    latencies = [ms for _, ms in answers]
    return {"statuses": statuses, "took_s": took, "latencies": latencies}


async def phase(server, admin, buyer, token, version, streams, args, burst: bool) -> dict:
    healthz: list[float] = []
    stop = asyncio.Event()
    prober = asyncio.create_task(sample_healthz(admin, server.base, healthz, stop))
    burst_task = None
    if burst:
        run_id = str(int(time.time()))
        burst_task = asyncio.create_task(
            auth_burst(server.base, args.registrations, args.logins, run_id)
        )
        await asyncio.sleep(0.3)  # the POSTs are in flight once their tokens are fetched

    def done():
        return burst_task is None or burst_task.done()

    sent = await orders_until(server, buyer, token, version, args.spacing, done, args.k)
    auth = await burst_task if burst_task else None
    await asyncio.sleep(args.settle)
    stop.set()
    await prober
    latencies, missed = deliveries(streams, sent)
    name = "burst" if burst else "idle"
    result = {
        f"{name}_orders": len(sent),
        f"{name}_missed": missed,
        f"{name}_delivery_p50_ms": round(percentile(latencies, 50), 1),
        f"{name}_delivery_p99_ms": round(percentile(latencies, 99), 1),
        f"{name}_delivery_max_ms": round(max(latencies, default=float("nan")), 1),
        f"{name}_healthz_samples": len(healthz),
        f"{name}_healthz_p50_ms": round(percentile(healthz, 50), 1),
        f"{name}_healthz_p99_ms": round(percentile(healthz, 99), 1),
        f"{name}_healthz_max_ms": round(max(healthz, default=float("nan")), 1),
    }
    if auth:
        result.update(
            burst_auth_statuses=auth["statuses"],
            burst_auth_took_s=round(auth["took_s"], 2),
            burst_auth_p50_ms=round(percentile(auth["latencies"], 50), 1),
            burst_auth_p99_ms=round(percentile(auth["latencies"], 99), 1),
        )
    return result, sent[-1][0]


async def run(args) -> dict:
    raise_nofile(args.streams + 2000)
    workdir = Path(tempfile.mkdtemp(prefix="orderpulse-auth-"))
    args.redis_url, args.gevent_monitor, args.port, args.workers = None, False, 0, 1
    server = Server(args, workdir)
    server.env["PASSWORD_HASH_THREADS"] = str(args.hash_threads)
    server.prepare(1000, customers=args.logins)
    server.start()
    result: dict = {
        "streams": args.streams,
        "registrations": args.registrations,
        "logins": args.logins,
        "hash_threads": args.hash_threads,
        "spacing_s": args.spacing,
    }
    try:
        async with client_session() as admin, client_session() as buyer:
            token, version = await log_in_and_warm_up(server, admin, buyer)
            streams, _, errors, _ = await open_streams(
                server, cookie_header(admin), args.streams, args.concurrency
            )
            if errors:
                raise RuntimeError(f"streams failed: {errors[:3]}")
            await asyncio.sleep(1.5)
            idle, version = await phase(server, admin, buyer, token, version, streams, args, False)
            burst, _ = await phase(server, admin, buyer, token, version, streams, args, True)
            result.update(idle | burst)
            result["stream_errors"] = sum(1 for s in streams if s.error)
            async with admin.get(f"{server.base}/metrics") as r:
                samples, late = server.loop_lag(await r.text())
                found = re.search(r"^orderpulse_open_streams (\S+)", await r.text(), re.M)
            result.update(
                loop_blocks_over_100ms=late,
                open_streams_at_end=found and int(float(found.group(1))),
            )
            for stream in streams:
                stream.transport.close()
    finally:
        server.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", "-n", type=int, default=1000)
    parser.add_argument("--registrations", type=int, default=60)
    parser.add_argument("--logins", type=int, default=60)
    parser.add_argument("--hash-threads", type=int, default=1, help="0: hash on the loop")
    parser.add_argument("--orders-to-place", "-k", dest="k", type=int, default=20)
    parser.add_argument("--spacing", type=float, default=0.5, help="seconds between orders")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds to wait at the end")
    parser.add_argument("--concurrency", type=int, default=200, help="parallel connects")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--out", default=None, help="JSON output path")
    args = parser.parse_args()
    try:  # uvloop keeps the harness's own per-frame cost low, so it measures the server
        import uvloop

        result = uvloop.run(run(args))
    except ImportError:
        result = asyncio.run(run(args))
    default = f"auth-burst-{args.streams}-threads{args.hash_threads}.json"
    report(result, args.out or ROOT / "bench" / "results" / default)


if __name__ == "__main__":
    main()

"""Slow and dead clients: N admin streams that never read, next to
H healthy streams, on one gunicorn gevent worker.

Starts a fresh server (``stream_bench.Server``; SQLite in a temp dir unless
``--database-url``), opens H healthy streams (the benchmark's low-overhead reader) and N
stalled ones (raw sockets with a tiny ``SO_RCVBUF`` that never ``recv``), places K orders
``--spacing`` s apart through ``POST /api/orders``, and reports:

- server RSS before and after opening the stalled streams (KB per stalled stream), its peak
  while orders flow, and at the end;
- delivery to the healthy streams (checkout request sent → frame with the new version
  received): p50 / p99 / max in ms, and missed deliveries;
- stalled streams the server dropped (``SSE_WRITE_TIMEOUT_SECONDS``), from ``/metrics``
  (open streams before and after; the client cannot see it: the server's FIN waits behind
  the data the stalled client never reads);
- whether memory stayed bounded (peak growth under ``--bound-kb`` per stalled stream).

Prints a table and writes JSON to ``bench/results/``. Traffic stays on 127.0.0.1; every
phase is bounded in count and time.
"""

import argparse
import asyncio
import re
import socket
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stream_bench import (  # noqa: E402
    ROOT,
    USER_AGENT,
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


def stalled_streams(port: int, cookie: str, n: int, rcvbuf: int) -> list[socket.socket]:
    """``n`` admin streams whose client never reads (the receive window stays tiny)."""
    request = (
        f"GET /admin/orders/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Cookie: {cookie}\r\nUser-Agent: {USER_AGENT}\r\nAccept: text/event-stream\r\n\r\n"
    ).encode()
    socks = []
    for _ in range(n):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # before connect
        sock.connect(("127.0.0.1", port))
        sock.sendall(request)
        socks.append(sock)
    return socks


async def open_stream_count(http: aiohttp.ClientSession, base: str) -> int:
    async with http.get(f"{base}/metrics") as r:
        found = re.search(r"^orderpulse_open_streams (\S+)", await r.text(), re.M)
    return int(float(found.group(1))) if found else -1


async def sample_rss(server: Server, peak: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], server.rss())
        await asyncio.sleep(0.1)


async def run(args) -> dict:
    raise_nofile(args.stalled + args.healthy + 2000)
    workdir = Path(tempfile.mkdtemp(prefix="orderpulse-slow-"))
    args.streams = args.stalled + args.healthy  # Server sizes connections and caps from it
    args.redis_url, args.gevent_monitor, args.port = None, False, 0
    server = Server(args, workdir)
    server.env.update(
        SSE_WRITE_TIMEOUT_SECONDS=str(args.write_timeout),
        SSE_SEND_BUFFER_BYTES=str(args.send_buffer),
    )
    server.prepare(args.orders)
    server.start()
    result: dict = {
        "stalled": args.stalled,
        "healthy": args.healthy,
        "write_timeout_s": args.write_timeout,
        "send_buffer_bytes": args.send_buffer,
        "client_rcvbuf_bytes": args.rcvbuf,
        "orders_placed": args.k,
        "spacing_s": args.spacing,
    }

    stalled: list[socket.socket] = []
    try:
        async with client_session() as admin, client_session() as buyer:
            token, version = await log_in_and_warm_up(server, admin, buyer)
            healthy, _, errors, _ = await open_streams(
                server, cookie_header(admin), args.healthy, args.healthy
            )
            if errors:
                raise RuntimeError(f"healthy streams failed: {errors[:3]}")
            await asyncio.sleep(1.5)
            rss_before = server.rss()
            started = time.perf_counter()
            stalled = stalled_streams(server.port, cookie_header(admin), args.stalled, args.rcvbuf)
            deadline = time.monotonic() + 60
            want = args.stalled + args.healthy
            while await open_stream_count(admin, server.base) < want:
                if time.monotonic() > deadline:
                    raise RuntimeError("the stalled streams did not all open")
                await asyncio.sleep(0.2)
            result["stalled_open_s"] = round(time.perf_counter() - started, 2)
            await asyncio.sleep(2)
            rss_open = server.rss()
            peak, stop = [rss_open], asyncio.Event()
            sampler = asyncio.create_task(sample_rss(server, peak, stop))
            sent = await place_orders(server, buyer, token, args.k, args.spacing, version)
            await asyncio.sleep(args.write_timeout + args.settle)
            stop.set()
            await sampler
            rss_end = server.rss()
            latencies, missed = deliveries(healthy, sent)
            open_now = await open_stream_count(admin, server.base)
            dropped = want - open_now
            growth_kb = (peak[0] - rss_before) / 1024
            result.update(
                rss_before_mb=round(rss_before / 2**20, 1),
                rss_with_stalled_mb=round(rss_open / 2**20, 1),
                kb_per_stalled_stream=round((rss_open - rss_before) / 1024 / args.stalled, 1),
                rss_peak_mb=round(peak[0] / 2**20, 1),
                rss_end_mb=round(rss_end / 2**20, 1),
                peak_growth_kb_per_stalled=round(growth_kb / args.stalled, 1),
                healthy_deliveries=len(latencies),
                healthy_missed=missed,
                healthy_p50_ms=round(percentile(latencies, 50), 1),
                healthy_p99_ms=round(percentile(latencies, 99), 1),
                healthy_max_ms=round(max(latencies, default=float("nan")), 1),
                healthy_errors=sum(1 for s in healthy if s.error),
                stalled_dropped=dropped,
                open_streams_after=open_now,
                memory_bounded=growth_kb / args.stalled < args.bound_kb,
            )
            for stream in healthy:
                stream.transport.close()
    finally:
        for sock in stalled:
            sock.close()
        server.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stalled", "-n", type=int, default=1000, help="never-reading streams")
    parser.add_argument("--healthy", type=int, default=50)
    parser.add_argument("--orders-to-place", "-k", dest="k", type=int, default=30)
    parser.add_argument("--spacing", type=float, default=0.2, help="seconds between orders")
    parser.add_argument(
        "--write-timeout", type=float, default=5.0, help="SSE_WRITE_TIMEOUT_SECONDS"
    )
    parser.add_argument(
        "--send-buffer", type=int, default=65536, help="SSE_SEND_BUFFER_BYTES (0: autotuned)"
    )
    parser.add_argument("--rcvbuf", type=int, default=1024, help="stalled clients' SO_RCVBUF")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds to wait at the end")
    parser.add_argument(
        "--bound-kb", type=float, default=150.0, help="bounded: peak growth per stalled stream"
    )
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--orders", type=int, default=100, help="past orders in the database")
    parser.add_argument("--out", default=None, help="JSON output path")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    report(result, args.out or ROOT / "bench" / "results" / f"slow-clients-{args.stalled}.json")


if __name__ == "__main__":
    main()

"""Commits from another process reach dashboards as ``event: order`` frames.

A fresh PostgreSQL database and one gunicorn gevent worker with no Redis, so commits travel
by ``LISTEN/NOTIFY``; N dashboards stream. Then ``flask simulate-orders`` runs as a separate
process (what a cron job or another host would be) and prints one line per commit; the
harness reads each line the moment it is printed (right after the commit) and measures the
time until every dashboard has the ``event: order`` frame for that order and kind.

Reports commits, frames expected and received, and the latency p50/p99/max (ms). The
printed line comes a fraction of a millisecond after the commit, so the figures are a
little below the true commit-to-frame time. 127.0.0.1 only, bounded in count and time.

The dashboards are read by ``bench/sse_reader.c`` (one process per core, kernel receive
timestamps, as ``nchan_bench.py``), which keeps up with 20 commits a second to 1,000
dashboards where one Python process could not (it read the simulator's lines seconds
late). Each commit is one change-log entry: the i-th line printed is the i-th activity id
after the start, which every dashboard's ``event: order`` frame carries. Without a C
compiler the Python reader of ``stream_bench.py`` is used, matched by order and kind.

    python bench/external_commit_bench.py -n 100 --rate 5 --duration 20
"""

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checkout_bench import DEFAULT_ADMIN_DB, drop_database, fresh_database  # noqa: E402
from nchan_bench import CReaders  # noqa: E402
from stream_bench import (  # noqa: E402
    PY,
    ROOT,
    Server,
    client_session,
    cookie_header,
    log_in_and_warm_up,
    open_streams,
    percentile,
    raise_nofile,
    report,
    stream_request,
)

ACTIVITY_MARK = ('"activity":{"id":', ",")  # an event: order frame's change-log entry
LINE_RE = re.compile(r"^(?:placed (ORD-\S+)|(ORD-\S+) → .+|(ORD-\S+) cancelled)")
EVENT_RE = re.compile(rb"event: order\ndata: (\{.*?\})\n\n")


class Arrivals:
    """``(order_number, kind) → [arrival times]`` over every dashboard."""

    def __init__(self):
        self.times: dict[tuple[str, str], list[float]] = {}

    def on_frames(self, _index):
        def handle(block: bytes):
            now = time.perf_counter()
            for raw in EVENT_RE.findall(block):
                body = json.loads(raw)
                key = (body["order"]["order_number"], body["kind"])
                self.times.setdefault(key, []).append(now)

        return handle


async def run_simulator(env: dict, rate: float, duration: float, seed: int, cwd=ROOT):
    """Run ``flask simulate-orders``; returns ``[(order_number, kind, printed_at)]``."""
    proc = await asyncio.create_subprocess_exec(
        PY, "-m", "flask", "simulate-orders", "--rate", str(rate), "--duration", str(duration),
        "--seed", str(seed), cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    commits = []
    while line := await proc.stdout.readline():
        printed = time.perf_counter()
        match = LINE_RE.match(line.decode().strip())
        if match:
            placed, moved, cancelled = match.groups()
            number = placed or moved or cancelled
            kind = "created" if placed else "status" if moved else "cancelled"
            commits.append((number, kind, printed))
    await proc.wait()
    return commits


async def run(args) -> dict:
    raise_nofile(args.streams + 2000)
    workdir = Path(tempfile.mkdtemp(prefix="orderpulse-external-"))
    name = f"orderpulse_ext_{uuid.uuid4().hex[:8]}"
    args.database_url = fresh_database(args.admin_db, name)
    args.redis_url, args.gevent_monitor, args.workers = None, False, 1
    server = Server(args, workdir)
    server.env.pop("REDIS_URL", None)
    server.prepare(args.orders, customers=5)
    server.start()
    result: dict = {"dashboards": args.streams, "backend": "postgres LISTEN/NOTIFY"}
    try:
        async with client_session() as admin, client_session() as buyer:
            await log_in_and_warm_up(server, admin, buyer)
            binary = CReaders.build(workdir)
            if binary:
                result.update(await measure_c(args, server, admin, binary, workdir))
                return result
            arrivals = Arrivals()
            streams, _, errors, _ = await open_streams(
                server, cookie_header(admin), args.streams, 200, on_frames=arrivals.on_frames
            )
            result["held"] = sum(1 for s in streams if s.error is None and s.first.done())
            await asyncio.sleep(2)
            env = {**server.env, "FLASK_APP": "wsgi.py", "PYTHONUNBUFFERED": "1"}
            env["ORDERPULSE_CONFIG"] = "development"
            commits = await run_simulator(env, args.rate, args.duration, args.seed, server.root)
            await asyncio.sleep(args.settle)
            latencies, missing = [], 0
            for number, kind, printed in commits:
                seen = arrivals.times.get((number, kind), [])
                latencies += [(t - printed) * 1000 for t in seen]
                missing += max(0, result["held"] - len(seen))
            result.update(
                commits=len(commits),
                frames_expected=len(commits) * result["held"],
                frames_missing=missing,
                p50_ms=round(percentile(latencies, 50), 1),
                p99_ms=round(percentile(latencies, 99), 1),
                max_ms=round(max(latencies, default=float("nan")), 1),
            )
            for s in streams:
                if s.transport:
                    s.transport.close()
    finally:
        server.stop()
        drop_database(args.admin_db, name)
    return result


async def measure_c(args, server, admin, binary: str, workdir: Path) -> dict:
    """The dashboards read by ``bench/sse_reader.c``; latency per (commit, dashboard)."""
    last = entries_after(args.database_url, None)
    request = stream_request(server.port, cookie_header(admin))
    readers = CReaders(
        binary, workdir, os.cpu_count() or 1, server.port, request, args.streams, 200,
        ACTIVITY_MARK, "\nid: ",
    )  # fmt: skip
    try:
        opened = await readers.ready()
        await asyncio.sleep(2)
        env = {**server.env, "FLASK_APP": "wsgi.py", "PYTHONUNBUFFERED": "1"}
        env["ORDERPULSE_CONFIG"] = "development"
        commits = await run_simulator(env, args.rate, args.duration, args.seed, server.root)
        await asyncio.sleep(args.settle)
        seen = (await readers.report())["arrivals"]
    finally:
        readers.stop()
    # Each printed commit is the next change-log entry of its order and kind.
    entries: dict[tuple, list[int]] = {}
    for activity, number, kind in entries_after(args.database_url, last):
        entries.setdefault((number, kind), []).append(activity)
    latencies, missing = [], 0
    for number, kind, printed in commits:
        ids = entries.get((number, kind))
        if not ids:
            missing += len(seen)
            continue
        activity = ids.pop(0)
        for stream in seen:
            arrived = stream.get(activity)
            if arrived is None:
                missing += 1
            else:  # the reader's clock is the epoch; the harness's perf_counter: convert
                latencies.append((arrived / 1e9 - (printed + EPOCH_OFFSET)) * 1000)
    span = (commits[-1][2] - commits[0][2]) if len(commits) > 1 else 0
    return {
        "held": opened["held"],
        "load_generator": "C (bench/sse_reader.c)",
        "commits": len(commits),
        "commits_per_s": round((len(commits) - 1) / span, 1) if span else None,
        "frames_expected": len(commits) * opened["held"],
        "frames_missing": missing,
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies, default=float("nan")), 1),
    }


# time.time() - time.perf_counter() at import: the simulator's lines are stamped with
# perf_counter, the reader's arrivals with the kernel's wall clock.
EPOCH_OFFSET = time.time() - time.perf_counter()


def entries_after(database_url: str, last: int | None):
    """``None``: the newest change-log id; else ``[(id, order number, kind)]`` after
    ``last``, in id order."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            if last is None:
                query = "SELECT coalesce(max(id), 0) FROM order_activity"
                return conn.execute(sa.text(query)).scalar()
            query = (
                "SELECT a.id, o.order_number, a.kind FROM order_activity a "
                "JOIN orders o ON o.id = a.order_id WHERE a.id > :last ORDER BY a.id"
            )
            return [tuple(row) for row in conn.execute(sa.text(query), {"last": last})]
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", "-n", type=int, default=100, help="dashboards")
    parser.add_argument("--rate", type=float, default=5.0, help="commits per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--settle", type=float, default=2.0)
    parser.add_argument("--orders", type=int, default=1000, help="past orders in the database")
    parser.add_argument("--admin-db", default=os.environ.get("BENCH_ADMIN_DB", DEFAULT_ADMIN_DB))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out", default=None)
    parser.add_argument("--app-root", default=None, help="run the server from this checkout")
    args = parser.parse_args()
    args.database_url = None
    result = asyncio.run(run(args))
    report(result, args.out or ROOT / "bench" / "results" / f"external-{args.streams}.json")


if __name__ == "__main__":
    main()

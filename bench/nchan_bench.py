"""One change to N streams, side by side: our gevent worker and nginx + nchan (a fan-out
engine in C) on the same machine, the same load generator, the same frame size.

For each run and each server: open N event streams, measure the server's RSS growth per
stream, then make K changes ``--spacing`` seconds apart and measure, for every stream and
change, the time from just before the change's request was sent (our ``POST /api/orders``;
nchan's ``POST /pub``) to the arrival of the frame that carries it. Both rows are printed
with their ratio (ours / nchan's); JSON goes to ``bench/results/``. Also per server: the
*spread* (p99 of each arrival after that change's first arrival anywhere: the fan-out
alone, whatever the change cost before it) and the change request's own time (p50).

- **Our worker**: one gunicorn gevent worker (SQLite in a temp dir, as ``stream_bench.py``),
  N logged-in dashboard streams; a change is a real checkout, so our figure includes the
  request, the commit, the hub's read of the change and the fan-out.
- **nginx + nchan**: one nginx worker (``libnginx-mod-nchan``), N ``eventsource``
  subscribers of one channel; a change is one message published to it, padded to the bytes
  our streams received per change in the same run (``--frame-bytes`` when only nchan runs).
  Without nginx or the module the bench says so and measures ours alone.

The load generator is one process per core (``--readers``), each reading its share of the
streams with non-blocking ``recvmsg``. Arrival is the kernel's receive timestamp of the
bytes (``SO_TIMESTAMPNS``), not when the reader got round to them, so the generator's own
speed does not enter the figures as long as it keeps up (it reports its CPU).
127.0.0.1 only; every phase is bounded in count and time.

    python bench/nchan_bench.py -n 1000 --runs 3
    python bench/nchan_bench.py -n 10000 --runs 3 --app-root /tmp/before   # "before" code
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stream_bench import (  # noqa: E402
    ROOT,
    Server,
    client_session,
    cookie_header,
    log_in_and_warm_up,
    percentile,
    raise_nofile,
    stream_request,
)

from tests.harness import free_port  # noqa: E402  (importable once stream_bench set the path)

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
NCHAN_MODULE = Path("/usr/lib/nginx/modules/ngx_nchan_module.so")
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux; SCM_TIMESTAMPNS is the same
OURS_MARK = rb"\nid: (\d+)\n"  # a snapshot's version
NCHAN_MARK = rb'"bench_seq":(\d+),'
TAIL = 64  # bytes kept between reads, so a mark split across two reads is still found
# The same marks for the C reader: a prefix, digits, an end ("\\n": a newline).
C_MARKS = {OURS_MARK: ("\\nid: ", "\\n"), rb'"bench_seq":(\d+),': ('"bench_seq":', ",")}
C_READY = {rb"HTTP/1.1 200": "HTTP/1.1 200"}  # ours: ready at the first mark


# -- the load generator (one process per core) --------------------------------------------------


def reader_main(pipe, port: int, request: bytes, n: int, concurrency: int, mark, ready) -> None:
    """Open ``n`` streams, tell the parent once each has its first frame (``ready``), record
    the kernel arrival time of each ``mark`` (first time seen per stream), answer ``report``."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    raise_nofile(n + 100)
    asyncio.run(_reader(pipe, port, request, n, concurrency, re.compile(mark), re.compile(ready)))


class _Stream:
    __slots__ = ("sock", "tail", "ready", "arrivals", "error", "bytes", "bytes_at_ready")

    def __init__(self, sock):
        self.sock, self.tail, self.ready = sock, b"", False
        self.arrivals: dict[int, int] = {}
        self.error = None
        self.bytes = self.bytes_at_ready = 0


async def _reader(pipe, port, request, n, concurrency, mark, ready) -> None:
    loop = asyncio.get_running_loop()
    streams: list[_Stream] = []
    gate = asyncio.Semaphore(concurrency)
    waiting = {"count": n}
    all_ready = loop.create_future()

    def settle(stream: _Stream) -> None:
        waiting["count"] -= 1
        if waiting["count"] == 0 and not all_ready.done():
            all_ready.set_result(None)

    def readable(stream: _Stream) -> None:
        try:
            data, ancillary, _, _ = stream.sock.recvmsg(262144, 64)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            data, ancillary = b"", ()
            stream.error = repr(exc)
        if not data:
            stream.error = stream.error or "closed by server"
            loop.remove_reader(stream.sock.fileno())
            if not stream.ready:
                stream.ready = True
                settle(stream)
            return
        arrived = None
        for level, kind, raw in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                seconds, nanos = struct.unpack("qq", raw[:16])
                arrived = seconds * 1_000_000_000 + nanos
        if arrived is None:
            arrived = time.time_ns()
        buf = stream.tail + data
        stream.bytes += len(data)
        for found in mark.finditer(buf):
            stream.arrivals.setdefault(int(found.group(1)), arrived)
        if not stream.ready and ready.search(buf):
            stream.ready = True
            stream.bytes_at_ready = stream.bytes
            settle(stream)
        stream.tail = buf[-TAIL:]

    async def one() -> None:
        async with gate:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            sock.setblocking(False)
            stream = _Stream(sock)
            streams.append(stream)
            try:
                await asyncio.wait_for(loop.sock_connect(sock, ("127.0.0.1", port)), 60)
                sock.send(request)
            except (OSError, TimeoutError) as exc:
                stream.error = repr(exc)
                stream.ready = True
                settle(stream)
                return
            loop.add_reader(sock.fileno(), readable, stream)
            started = time.monotonic()
            while not stream.ready and time.monotonic() - started < 120:
                await asyncio.sleep(0.05)  # holds the gate until this stream is served

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    await asyncio.wait_for(all_ready, 300)
    pipe.send({"ready": sum(s.ready and s.error is None for s in streams),
               "connect_s": time.perf_counter() - started})  # fmt: skip
    while True:
        command = await loop.run_in_executor(None, pipe.recv)
        if command == "report":
            cpu = sum(os.times()[:2])
            pipe.send(
                {
                    "arrivals": [s.arrivals for s in streams if s.ready],
                    "bytes": [s.bytes - s.bytes_at_ready for s in streams if s.error is None],
                    "errors": [s.error for s in streams if s.error],
                    "cpu_s": cpu,
                }
            )
        elif command == "stop":
            for s in streams:
                s.sock.close()
            pipe.send("stopped")
            return


class CReaders:
    """``--readers`` processes of ``bench/sse_reader.c`` sharing N streams: the same work as
    ``reader_main`` at a fraction of its CPU, so the servers keep the cores."""

    SOURCE = Path(__file__).resolve().parent / "sse_reader.c"

    @classmethod
    def build(cls, workdir: Path) -> str | None:
        """Compile the reader (``cc -O2``); ``None`` without a C compiler."""
        compiler = shutil.which("cc") or shutil.which("gcc")
        if compiler is None:
            return None
        binary = workdir / "sse_reader"
        done = subprocess.run([compiler, "-O2", "-o", str(binary), str(cls.SOURCE)], check=False)
        return str(binary) if done.returncode == 0 else None

    def __init__(self, binary, workdir, count, port, request, n, concurrency, mark, ready):
        request_file = workdir / f"request-{port}"
        request_file.write_bytes(request)
        prefix, end = mark
        self.procs = []
        for i in range(count):
            share = n // count + (i < n % count)
            command = [binary, str(port), str(share), str(max(1, concurrency // count))]
            command += [str(request_file), prefix, end, ready]
            self.procs.append(
                subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            )

    async def ready(self) -> dict:
        loop = asyncio.get_running_loop()
        lines = await asyncio.gather(
            *(loop.run_in_executor(None, p.stdout.readline) for p in self.procs)
        )
        answers = [line.split() for line in lines]
        return {
            "held": sum(int(a[1]) for a in answers),
            "connect_s": max(float(a[2]) for a in answers),
        }

    def _report_one(self, proc) -> dict:
        proc.stdin.write("report\n")
        proc.stdin.flush()
        arrivals, sizes, errors, cpu = [], [], [], 0.0
        for line in proc.stdout:
            kind, *rest = line.split()
            if kind == "end":
                break
            if kind == "cpu":
                cpu = float(rest[0])
                continue
            size, error, *marks = rest
            seen = {}
            for pair in marks:
                mark, at = pair.split(":")
                seen.setdefault(int(mark), int(at))
            arrivals.append(seen)
            if error != "0":
                errors.append("closed by server" if error == "-1" else f"errno {error}")
            else:
                sizes.append(int(size))
        return {"arrivals": arrivals, "bytes": sizes, "errors": errors, "cpu_s": cpu}

    async def report(self) -> dict:
        loop = asyncio.get_running_loop()
        answers = await asyncio.gather(
            *(loop.run_in_executor(None, self._report_one, p) for p in self.procs)
        )
        return {
            "arrivals": [a for answer in answers for a in answer["arrivals"]],
            "bytes": [b for answer in answers for b in answer["bytes"]],
            "errors": [e for answer in answers for e in answer["errors"]],
            "cpu_s": sum(answer["cpu_s"] for answer in answers),
        }

    def stop(self) -> None:
        for proc in self.procs:
            try:
                proc.stdin.write("stop\n")
                proc.stdin.flush()
            except OSError:
                pass
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


class Readers:
    """``--readers`` Python processes sharing N streams (``--reader python``)."""

    def __init__(self, count, port, request, n, concurrency, mark, ready):
        context = multiprocessing.get_context("spawn")
        self.pipes, self.procs = [], []
        for i in range(count):
            share = n // count + (i < n % count)
            parent, child = context.Pipe()
            proc = context.Process(
                target=reader_main,
                args=(child, port, request, share, max(1, concurrency // count), mark, ready),
                daemon=True,
            )
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)

    async def ready(self) -> dict:
        loop = asyncio.get_running_loop()
        answers = await asyncio.gather(*(loop.run_in_executor(None, p.recv) for p in self.pipes))
        return {
            "held": sum(a["ready"] for a in answers),
            "connect_s": max(a["connect_s"] for a in answers),
        }

    async def report(self) -> dict:
        loop = asyncio.get_running_loop()
        for pipe in self.pipes:
            pipe.send("report")
        answers = await asyncio.gather(*(loop.run_in_executor(None, p.recv) for p in self.pipes))
        return {
            "arrivals": [a for answer in answers for a in answer["arrivals"]],
            "bytes": [b for answer in answers for b in answer["bytes"]],
            "errors": [e for answer in answers for e in answer["errors"]],
            "cpu_s": sum(answer["cpu_s"] for answer in answers),
        }

    def stop(self) -> None:
        for pipe, proc in zip(self.pipes, self.procs, strict=True):
            try:
                pipe.send("stop")
                pipe.recv() if pipe.poll(10) else None
            except (OSError, EOFError):
                pass
            proc.join(10)
            if proc.is_alive():
                proc.kill()


def latencies(arrivals: list[dict], sent: list[tuple[int, int]], at_least: bool):
    """Per stream and change: ms from sending to the first frame with that mark (``at_least``:
    a version at or past it, as a coalesced snapshot carries every change before it); and
    the *spread*: ms from the change's first arrival on any stream (the fan-out alone)."""
    found, spread, missed = [], [], 0
    per_change: dict[int, list[int]] = {target: [] for target, _ in sent}
    for seen in arrivals:
        for target, started in sent:
            if at_least:
                times = [t for mark, t in seen.items() if mark >= target]
                arrived = min(times) if times else None
            else:
                arrived = seen.get(target)
            if arrived is None:
                missed += 1
            else:
                found.append((arrived - started) / 1e6)
                per_change[target].append(arrived)
    for times in per_change.values():
        if times:
            first = min(times)
            spread.extend((t - first) / 1e6 for t in times)
    return found, spread, missed


def summary(values: list[float], missed: int) -> dict:
    return {
        "deliveries": len(values),
        "missed": missed,
        "p50_ms": round(percentile(values, 50), 1),
        "p99_ms": round(percentile(values, 99), 1),
        "max_ms": round(max(values, default=float("nan")), 1),
        "mean_ms": round(statistics.fmean(values), 1) if values else None,
    }


# -- the two servers ------------------------------------------------------------------------------


class Nginx:
    """nginx with nchan, one worker process, in a directory of its own."""

    def __init__(self, workdir: Path, n: int):
        self.port = free_port()
        self.dir = workdir / f"nginx-{self.port}"
        self.dir.mkdir()
        limit = n + 2000
        temp = "\n".join(
            f"  {name}_temp_path {self.dir}/{name};"
            for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (self.dir / "nginx.conf").write_text(
            f"""load_module {NCHAN_MODULE};
worker_processes 1;
worker_rlimit_nofile {limit};
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
events {{ worker_connections {limit}; multi_accept on; }}
http {{
  access_log off;
{temp}
  nchan_shared_memory_size 256M;
  server {{
    listen 127.0.0.1:{self.port} backlog=4096;
    location = /sub {{ nchan_subscriber eventsource; nchan_channel_id bench; }}
    location = /pub {{ nchan_publisher; nchan_channel_id bench; nchan_message_buffer_length 5; }}
  }}
}}
"""
        )
        self.proc = None

    @staticmethod
    def available() -> str | None:
        """Why nchan cannot run here, or ``None``."""
        if not Path(NGINX).exists():
            return "nginx is not installed (apt-get install nginx-light)"
        if not NCHAN_MODULE.exists():
            return "the nchan module is not installed (apt-get install libnginx-mod-nchan)"
        return None

    def start(self) -> None:
        conf = str(self.dir / "nginx.conf")
        command = [NGINX, "-p", str(self.dir), "-c", conf, "-g", "daemon off;"]
        with open(self.dir / "stderr.log", "wb") as log:
            self.proc = subprocess.Popen(command, stderr=log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"nginx did not start; see {self.dir}")

    def rss(self) -> int:
        proc = psutil.Process(self.proc.pid)
        return sum(p.memory_info().rss for p in [proc, *proc.children()])

    def cpu_seconds(self) -> float:
        proc = psutil.Process(self.proc.pid)
        return sum(sum(p.cpu_times()[:2]) for p in [proc, *proc.children()])

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


async def measure(args, start, request, port, mark, ready, trigger, at_least, rss, cpu) -> dict:
    """Open the streams, measure memory, make the changes, gather the latencies."""
    rss_before = rss()
    if args.reader_binary:
        prefix, end = C_MARKS[mark]
        readers = CReaders(
            args.reader_binary, args.workdir, args.readers, port, request, args.streams,
            args.concurrency, (prefix, end), C_READY.get(ready, ""),
        )  # fmt: skip
    else:
        readers = Readers(args.readers, port, request, args.streams, args.concurrency, mark, ready)
    try:
        opened = await readers.ready()
        await asyncio.sleep(2)
        held = opened["held"]
        result = {
            "held": held,
            "connect_s": round(opened["connect_s"], 1),
            "kb_per_stream": round((rss() - rss_before) / 1024 / max(held, 1), 2),
        }
        # One change first, not counted: a fresh server's first one pays one-time costs
        # (compiled queries, caches) that no later change pays.
        await trigger()
        await asyncio.sleep(args.spacing)
        before = await readers.report()
        profiler = _profile(args, start) if args.profile else None
        cpu0 = cpu()
        sent, requests = [], []
        for _ in range(args.k):
            started = time.time_ns()
            sent.append((await trigger(), started))
            requests.append((time.time_ns() - started) / 1e6)
            await asyncio.sleep(args.spacing)
        await asyncio.sleep(args.settle)
        result["server_cpu_s"] = round(cpu() - cpu0, 2)
        if profiler is not None:
            profiler.wait(60)
        after = await readers.report()
        found, spread, missed = latencies(after["arrivals"], sent, at_least)
        result.update(summary(found, missed))
        result["spread_p99_ms"] = round(percentile(spread, 99), 1)
        result["trigger_request_p50_ms"] = round(percentile(requests, 50), 1)
        result["trigger_request_max_ms"] = round(max(requests), 1)
        if after["bytes"] and before["bytes"]:
            grown = statistics.median(after["bytes"]) - statistics.median(before["bytes"])
            result["bytes_per_change"] = round(grown / args.k)
        else:
            result["bytes_per_change"] = None
        result["stream_errors"] = len(after["errors"])
        result["load_generator_cpu_s"] = round(after["cpu_s"] - before["cpu_s"], 2)
        if after["errors"]:
            result["first_error"] = after["errors"][0]
        return result
    finally:
        readers.stop()


def _profile(args, server):
    """``--profile``: py-spy samples our worker while the changes go out (a run for the
    profile only: the sampler takes CPU from the same two cores)."""
    if not isinstance(server, Server):
        return None
    pid = server.workers()[0].pid
    seconds = int(args.k * args.spacing + args.settle)
    command = [str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(pid)]
    command += ["-d", str(seconds), "-r", "250", "-f", "raw", "-o", args.profile]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL)


async def run_ours(args, workdir: Path) -> dict:
    server = Server(
        SimpleNamespace(
            port=0, database_url=None, workers=1, streams=args.streams, redis_url=None,
            gevent_monitor=False, app_root=args.app_root,
        ),
        workdir,
    )  # fmt: skip
    server.prepare(args.orders)
    server.start()
    try:
        async with client_session() as admin, client_session() as buyer:
            token, version = await log_in_and_warm_up(server, admin, buyer)
            await asyncio.sleep(1.5)
            body = {"items": [{"product_id": 1, "quantity": 1}], "delivery_method": "pickup"}

            made = [0]

            async def checkout() -> int:
                url = f"{server.base}/api/orders"
                async with buyer.post(url, json=body, headers={"X-CSRFToken": token}) as r:
                    if r.status != 201:
                        raise RuntimeError(f"checkout failed: HTTP {r.status}")
                made[0] += 1
                return version + made[0]

            request = stream_request(server.port, cookie_header(admin))
            return await measure(
                args, server, request, server.port, OURS_MARK, OURS_MARK, checkout, True,
                server.rss, server.cpu_seconds,
            )  # fmt: skip
    finally:
        server.stop()


async def run_nchan(args, workdir: Path, frame_bytes: int) -> dict:
    nginx = Nginx(workdir, args.streams)
    nginx.start()
    try:
        base = f"http://127.0.0.1:{nginx.port}"
        async with aiohttp.ClientSession() as http:
            # The same bytes per change as ours: nchan adds "id: ...\ndata: " and "\n\n".
            pad = "x" * max(0, frame_bytes - 60)

            made = [0]

            async def publish() -> int:
                made[0] += 1
                seq = made[0]
                data = f'{{"bench_seq":{seq},"pad":"{pad}"}}'
                async with http.post(f"{base}/pub", data=data) as r:
                    if r.status not in (200, 201, 202):
                        raise RuntimeError(f"publish failed: HTTP {r.status}")
                return seq

            request = (
                f"GET /sub HTTP/1.1\r\nHost: 127.0.0.1:{nginx.port}\r\n"
                "Accept: text/event-stream\r\n\r\n"
            ).encode()
            result = await measure(
                args, nginx, request, nginx.port, NCHAN_MARK, rb"HTTP/1.1 200", publish, False,
                nginx.rss, nginx.cpu_seconds,
            )  # fmt: skip
            result["frame_bytes"] = frame_bytes
            return result
    finally:
        nginx.stop()


async def main_async(args) -> dict:
    raise_nofile(args.streams + 2000)
    workdir = Path(tempfile.mkdtemp(prefix="orderpulse-nchan-bench-"))
    args.workdir = workdir
    args.reader_binary = CReaders.build(workdir) if args.reader == "c" else None
    print(f"load generator: {args.readers} {'C' if args.reader_binary else 'Python'} readers")
    why_not = Nginx.available()
    if why_not:
        print(f"nginx + nchan skipped: {why_not}")
    runs = []
    for run in range(args.runs):
        row: dict = {"run": run + 1}
        if not args.only_nchan:
            (workdir / f"run-{run + 1}").mkdir()
            row["ours"] = await run_ours(args, workdir / f"run-{run + 1}")
            print(f"run {run + 1} ours:  {json.dumps(row['ours'])}", flush=True)
        frame = (row.get("ours") or {}).get("bytes_per_change") or args.frame_bytes
        if not why_not and not args.only_ours:
            row["nchan"] = await run_nchan(args, workdir, frame)
            print(f"run {run + 1} nchan: {json.dumps(row['nchan'])}", flush=True)
        if "ours" in row and "nchan" in row:
            row["ratio_p50"] = round(row["ours"]["p50_ms"] / row["nchan"]["p50_ms"], 2)
            row["ratio_p99"] = round(row["ours"]["p99_ms"] / row["nchan"]["p99_ms"], 2)
            row["ratio_kb"] = round(
                row["ours"]["kb_per_stream"] / row["nchan"]["kb_per_stream"], 2
            )
        runs.append(row)
    return {"streams": args.streams, "changes": args.k, "spacing_s": args.spacing, "runs": runs}


def print_table(result: dict) -> None:
    print(
        f"\n{result['streams']} streams, {result['changes']} changes {result['spacing_s']} s apart"
    )
    head = f"{'run':<4}{'server':<8}{'held':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
    head += f"{'KB/stream':>11}{'missed':>8}{'bytes/chg':>11}{'srv CPU s':>11}{'gen CPU s':>11}"
    print(head + f"{'spread p99':>12}{'request':>9}")
    for row in result["runs"]:
        for name in ("ours", "nchan"):
            r = row.get(name)
            if r:
                print(
                    f"{row['run']:<4}{name:<8}{r['held']:>7}{r['p50_ms']:>9}{r['p99_ms']:>9}"
                    f"{r['max_ms']:>9}{r['kb_per_stream']:>11}{r['missed']:>8}"
                    f"{str(r.get('bytes_per_change') or r.get('frame_bytes')):>11}"
                    f"{r['server_cpu_s']:>11}{r['load_generator_cpu_s']:>11}"
                    f"{r['spread_p99_ms']:>12}{r['trigger_request_p50_ms']:>9}"
                )
        if "ratio_p99" in row:
            print(
                f"{row['run']:<4}{'ratio':<8}{'':>7}{row['ratio_p50']:>9}{row['ratio_p99']:>9}"
                f"{'':>9}{row['ratio_kb']:>11}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", "-n", type=int, default=1000)
    parser.add_argument("--changes", "-k", dest="k", type=int, default=15)
    parser.add_argument("--spacing", type=float, default=1.0, help="seconds between changes")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds to wait at the end")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--readers", type=int, default=os.cpu_count() or 1,
                        help="load generator processes (default: one per core)")  # fmt: skip
    parser.add_argument("--concurrency", type=int, default=400, help="parallel connects")
    parser.add_argument("--orders", type=int, default=1000, help="past orders in our database")
    parser.add_argument("--frame-bytes", type=int, default=1500, help="nchan alone: bytes/change")
    parser.add_argument("--app-root", default=None, help="run our server from this checkout")
    parser.add_argument("--only-ours", action="store_true")
    parser.add_argument("--only-nchan", action="store_true")
    parser.add_argument("--out", default=None, help="JSON output path")
    parser.add_argument("--profile", default=None, help="py-spy our worker into this file")
    parser.add_argument("--reader", choices=("c", "python"), default="c",
                        help="load generator: bench/sse_reader.c (Python without cc)")  # fmt: skip
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    result["machine"] = f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB"
    result["date"] = time.strftime("%Y-%m-%d")
    result["load_average"] = os.getloadavg()
    print_table(result)
    out = Path(args.out or ROOT / "bench" / "results" / f"nchan-{args.streams}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

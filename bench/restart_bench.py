"""A release switch under load: N dashboards through the shipped nginx while orders flow,
then the switch to a new release (new code directory, new virtualenv).

Procedures (``--mode``):
- ``reload`` (the documented one, docs/operations.md "Releases"): ``current`` re-pointed,
  then ``systemctl reload orderpulse``: the shipped units as systemd runs them
  (``tests/release_harness.py``), gunicorn's USR2 handover;
- ``restart``: ``current`` re-pointed, ``systemctl restart`` (stop, start; the socket unit
  holds connections meanwhile);
- ``hup`` and ``term-start`` (what the docs said before): gunicorn binding its own port;
  ``current`` re-pointed and ``kill -HUP`` the master, or SIGTERM and a new start.

Prints every non-200 answer by status (a plain EventSource stops for good on one),
connection errors, the longest time each dashboard had no stream (p50/max; over 3 s a page
turns red), and how long orders placed around the switch took to reach every dashboard
(p50/p99/max). 127.0.0.1-127.0.0.9 only; bounded in count and time.

    python bench/restart_bench.py -n 200 --mode reload
    python bench/restart_bench.py -n 200 --mode hup --code /path/to/older/checkout
"""

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from tests.dashboard_clients import (  # noqa: E402
    GRACE,
    Dashboard,
    Results,
    connector,
    place_orders,
    run_dashboard,
)
from tests.harness import GunicornServer  # noqa: E402
from tests.helpers import wait_until  # noqa: E402
from tests.nginx_fixtures import NGINX, render  # noqa: E402
from tests.release_harness import Supervisor  # noqa: E402
from tests.releases import make_release, switch  # noqa: E402
from tests.servers import Session, free_port  # noqa: E402
from tests.services_required import (  # noqa: E402
    create_postgres_database,
    drop_postgres_database,
)

PER_ADDRESS = 40  # below nginx's limit_conn of 50 streams per client address


def step(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))] if values else float("nan")


class PlainGunicorn(GunicornServer):
    """The old way: gunicorn binds its own port, run from the release ``current`` points at
    (looked up at every start: a start after the switch runs the new release)."""

    def __init__(self, prefix: Path, env: dict, port: int, workers: int):
        super().__init__(
            prefix, workers=workers, port=port, defaults=env, metrics=False, inherit_env=False
        )
        self.env.pop("PYTHONPATH", None)  # the release's own code, not this checkout's
        self.prefix = prefix

    def _spawn(self):
        self.cwd = os.path.realpath(self.prefix / "current")
        self.command[0] = f"{self.cwd}/venv/bin/gunicorn"
        super()._spawn()

    def term_start(self):
        self.terminate(60)
        self.start()

    def close(self):
        self.stop()


def env_file(prefix: Path, url: str, args) -> Path:
    lines = {
        "ORDERPULSE_CONFIG": "development",  # plain HTTP through nginx: no Secure cookies
        "SECRET_KEY": "restart-bench-" + "k" * 32,
        "DATABASE_URL": url,
        "WEB_CONCURRENCY": str(args.workers),
        "PROMETHEUS_MULTIPROC_DIR": str(prefix / "metrics"),
        "SSE_MAX_STREAMS_PER_USER": str(args.dashboards + 10),
        "RATELIMIT_ENABLED": "0",
        "LOG_LEVEL": "warning",
    }
    if args.redis:
        lines["REDIS_URL"] = args.redis
        lines["REDIS_CHANNEL"] = f"orderpulse:restart-bench:{os.getpid()}"  # its own
    (prefix / "metrics").mkdir(exist_ok=True)  # older code needs it to exist
    path = prefix / "orderpulse.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
    return path


def cli(prefix: Path, env_path: Path, *command: str) -> None:
    current = prefix / "current"
    done = subprocess.run(
        [str(current / "venv/bin/flask"), "--env-file", str(env_path), "--app", "wsgi.py"]
        + list(command),
        cwd=os.path.realpath(current),
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"]},
    )
    if done.returncode:
        raise RuntimeError(f"flask {' '.join(command)}: {done.stderr[-2000:]}")


def wait_healthy(base: str, timeout: float = 60) -> None:
    import urllib.request

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    wait_until(healthy, timeout, f"{base}/healthz", every=0.2)


async def scenario(base: str, args, do_switch) -> tuple[Results, dict, float, float]:
    buyer = Session(base, "alice", "customer123")
    admins = {}
    dashboards = [Dashboard(i) for i in range(args.dashboards)]
    results = Results(dashboards)
    stop = asyncio.Event()
    sessions = []
    tasks = []
    for i, dash in enumerate(dashboards):
        if i % PER_ADDRESS == 0:
            # Sessions are bound to the client address (Flask-Login "strong" protection).
            source = f"127.0.0.{2 + i // PER_ADDRESS}"
            admins[source] = Session(base, "admin", "admin12345", source=source)
            http = aiohttp.ClientSession(
                connector=connector(source),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=30),
            )
            sessions.append(http)
        cookie = admins[source].cookie_header()
        tasks.append(asyncio.create_task(run_dashboard(http, base, cookie, dash, results, stop)))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(d.opened == 0 for d in dashboards):
        await asyncio.sleep(0.1)
    step(f"{sum(d.opened > 0 for d in dashboards)} dashboards streaming; switching in 2 s")
    placed: dict = {}
    placer = asyncio.create_task(
        place_orders(base, buyer.cookie_header(), buyer.csrf, placed, stop, args.every)
    )
    await asyncio.sleep(2)
    started = time.monotonic()
    await asyncio.get_running_loop().run_in_executor(None, do_switch)
    finished = time.monotonic()
    step(f"switch done in {finished - started:.1f} s")
    await asyncio.sleep(args.after)
    placed["stopped_at"] = time.monotonic()
    stop.set()
    await placer
    for task in tasks:  # streams wait for their next frame: end them now
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for http in sessions:
        await http.close()
    return results, placed, started, finished


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--dashboards", type=int, default=200)
    parser.add_argument("--mode", choices=("reload", "restart", "hup", "term-start"))
    parser.add_argument(
        "--code", type=Path, default=ROOT, help="checkout to release (its deploy/ for nginx)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--every", type=float, default=0.25, help="seconds between orders")
    parser.add_argument("--after", type=float, default=12, help="seconds after the switch")
    parser.add_argument("--redis", default="", help="REDIS_URL (default: none)")
    args = parser.parse_args()
    prefix = Path(tempfile.mkdtemp(prefix="orderpulse-restart-"))
    name = f"orderpulse_restart_{os.getpid()}"
    url = create_postgres_database(name)
    servers, nginx = [], None
    try:
        switch(prefix, make_release(prefix, "R1", args.code))
        new = make_release(prefix, "R2", args.code)
        env_path = env_file(prefix, url, args)
        step("releases made; migrating and seeding")
        cli(prefix, env_path, "db", "upgrade")
        cli(prefix, env_path, "seed-demo", "--orders", "20")
        import psycopg  # the buyer must not run out of credits during the run

        with psycopg.connect(url.replace("+psycopg", "")) as conn:
            conn.execute("UPDATE users SET credits = 100000000")
        port = free_port()
        if args.mode in ("reload", "restart"):
            server = Supervisor(prefix, env_path, port, prefix / "gunicorn.log")
            server.start()
            action = server.reload if args.mode == "reload" else server.restart
        else:
            env = {"PATH": os.environ["PATH"]}
            env.update(line.split("=", 1) for line in env_path.read_text().splitlines())
            server = PlainGunicorn(prefix, env, port, args.workers)
            server.start()
            action = server.hup if args.mode == "hup" else server.term_start
        servers.append(server)
        step("server starting")
        wait_healthy(f"http://127.0.0.1:{port}")
        workdir = prefix / "nginx"
        workdir.mkdir()
        listen = free_port()
        conf = render(workdir, listen, port, deploy=args.code / "deploy")
        nginx = subprocess.Popen([NGINX, "-c", str(conf)], stderr=subprocess.DEVNULL)
        wait_healthy(f"http://127.0.0.1:{listen}")
        step("nginx up; dashboards connecting")

        def do_switch():
            switch(prefix, new)
            outcome = action()
            if getattr(outcome, "returncode", 0):
                print("switch failed:", outcome.stdout, outcome.stderr)

        took = {}
        results, placed, started, finished = asyncio.run(
            scenario(f"http://127.0.0.1:{listen}", args, do_switch)
        )
        took["switch"] = finished - started
        report(args, results, placed, started, took)
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(10)
        for server in servers:
            server.close()
        drop_postgres_database(name)
        shutil.rmtree(prefix, ignore_errors=True)


def report(args, results: Results, placed: dict, started: float, took: dict) -> None:
    errors = placed.pop("errors", {})
    stopped = placed.pop("stopped_at")
    # Orders from 1 s before the switch; the last 2 s before the end have had no time yet.
    around = {oid: at for oid, at in placed.items() if started - 1 <= at <= stopped - 2}
    lags = results.lag(around)
    gaps = [d.longest_gap for d in results.dashboards]
    red = sum(gap > GRACE for gap in gaps)
    missing = sum(lag == float("inf") for lag in lags)
    print(f"mode={args.mode} dashboards={args.dashboards} workers={args.workers} "
          f"code={args.code}")  # fmt: skip
    print(f"  switch command took {took['switch']:.1f} s")
    print(f"  non-200 answers to streams: {dict(results.statuses) or 0}; "
          f"connection errors: {results.connection_errors}")  # fmt: skip
    print(f"  checkouts: {len(placed)} ok, failed: {dict(errors) or 0}")
    print(f"  time without a stream per dashboard: p50 {pct(gaps, 50):.2f} s, "
          f"max {max(gaps):.2f} s; red (> {GRACE:.0f} s): {red}")  # fmt: skip
    finite = [lag for lag in lags if lag != float("inf")]
    print(f"  orders placed from the switch on, to every dashboard: p50 {pct(finite, 50):.2f} s,"
          f" p99 {pct(finite, 99):.2f} s, max {max(finite, default=float('nan')):.2f} s; "
          f"never arrived: {missing} of {len(lags)}")  # fmt: skip


if __name__ == "__main__":
    main()

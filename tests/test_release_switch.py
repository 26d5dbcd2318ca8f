"""The documented release switch (docs/operations.md "Releases", its shell block as written)
while dashboards stream through the shipped nginx and orders are placed: no stream request
gets an error answer, every order reaches every dashboard, and afterwards the service runs
the new release's code and virtualenv. ``bench/restart_bench.py`` is the full-size version
(200 dashboards, with timings)."""

import asyncio
import os
import re
import subprocess
from pathlib import Path

import aiohttp
import pytest

from tests.dashboard_clients import Dashboard, Results, connector, place_orders, run_dashboard
from tests.helpers import run_coroutine
from tests.release_harness import Supervisor
from tests.releases import ROOT, make_release, switch
from tests.servers import Session, free_port

pytestmark = [pytest.mark.server, pytest.mark.services]
DASHBOARDS = 20
SWITCH = re.compile(r"<!-- install-step: switch -->\n```sh\n(.*?)```", re.S)


def flask(prefix: Path, env_file: Path, *command: str) -> None:
    current = os.path.realpath(prefix / "current")
    subprocess.run(
        [f"{current}/venv/bin/flask", "--env-file", str(env_file), "--app", "wsgi.py", *command],
        cwd=current,
        check=True,
        capture_output=True,
    )


def switch_block(prefix: Path, env_file: Path, release: str, log: Path) -> None:
    """The docs' switch, as written; ``sudo -u`` runs as this user and ``systemctl`` only
    records what it was asked (the test then does it, as systemd would)."""
    block = SWITCH.search((ROOT / "docs" / "operations.md").read_text()).group(1)
    prelude = (
        "set -euo pipefail\n"
        'sudo() { while [ $# -gt 0 ]; do case "$1" in -u) shift 2 ;; -*) shift ;; '
        '*) break ;; esac; done; "$@"; }\n'
        f'systemctl() {{ echo "$*" >> {log}; }}\n'
        f"APP={prefix}\nENV_FILE={env_file}\nR={release}\n"
    )
    subprocess.run(["bash", "-c", prelude + block], check=True, capture_output=True)


async def dashboards_during(base, admin_cookie, buyer, action) -> tuple[Results, dict]:
    dashboards = [Dashboard(i) for i in range(DASHBOARDS)]
    results = Results(dashboards)
    stop = asyncio.Event()
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30)
    async with aiohttp.ClientSession(connector=connector("127.0.0.1"), timeout=timeout) as http:
        tasks = [
            asyncio.create_task(run_dashboard(http, base, admin_cookie, d, results, stop))
            for d in dashboards
        ]
        for _ in range(600):  # every dashboard streaming first (bounded)
            if all(d.opened for d in dashboards):
                break
            await asyncio.sleep(0.05)
        placed: dict = {}
        no_more_orders = asyncio.Event()
        placer = asyncio.create_task(
            place_orders(
                base, buyer.cookie_header(), buyer.csrf, placed, no_more_orders, every=0.3
            )
        )
        await asyncio.get_running_loop().run_in_executor(None, action)
        # A few orders after the switch too, then every order on every dashboard (bounded).
        after = len(placed) + 3
        for _ in range(600):
            if len(placed) > after:
                break
            await asyncio.sleep(0.05)
        no_more_orders.set()
        await placer
        orders = [oid for oid in placed if isinstance(oid, int)]
        for _ in range(600):
            if all(oid in d.seen for d in dashboards for oid in orders):
                break
            await asyncio.sleep(0.05)
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return results, placed


def test_the_documented_release_switch_under_load(tmp_path, shared_db, nginx):
    url, shop = shared_db
    prefix = tmp_path / "srv"
    switch(prefix, make_release(prefix, "R1"))
    make_release(prefix, "R2")
    env_file = tmp_path / "orderpulse.env"
    # Production's DRAIN_IDLE_SECONDS (5 s, past nginx's upstream keepalive_timeout), which
    # the old master's exit waits for: the checkouts through nginx during the drain are
    # what it protects.
    env_file.write_text(
        "ORDERPULSE_CONFIG=development\nSECRET_KEY=release-switch-test-key-0123456789abcdef\n"
        f"DATABASE_URL={url}\nWEB_CONCURRENCY=1\nRATELIMIT_ENABLED=0\n"
        f"SSE_MAX_STREAMS_PER_USER=100\nPROMETHEUS_MULTIPROC_DIR={tmp_path}/metrics\n"
    )
    port = free_port()
    supervisor = Supervisor(prefix, env_file, port, tmp_path / "gunicorn.log")
    asked = tmp_path / "systemctl.log"
    try:
        supervisor.start()
        proxy = nginx(port)
        admin = Session(proxy.base, shop.admin.username, shop.password)
        buyer = Session(proxy.base, shop.alice.username, shop.password)
        old_main = supervisor.main_pid

        def release_switch():
            switch_block(prefix, env_file, "R2", asked)
            assert asked.read_text().split("\n")[0] == "reload orderpulse"
            outcome = supervisor.reload()
            assert outcome.returncode == 0, outcome.stderr

        results, placed = run_coroutine(
            dashboards_during(proxy.base, admin.cookie_header(), buyer, release_switch)
        )
        assert dict(results.statuses) == {}, "a plain EventSource would have closed for good"
        assert dict(placed.pop("errors")) == {}, "every checkout answered 201"
        missing = [
            (d.index, oid) for d in results.dashboards for oid in placed if oid not in d.seen
        ]
        assert missing == []
        assert supervisor.main_pid != old_main
        workers = supervisor.workers()
        assert workers and all(
            os.readlink(f"/proc/{pid}/cwd") == str(prefix / "releases" / "R2") for pid in workers
        )
        log = supervisor.log_path.read_text()
        assert f"venv={prefix}/releases/R2/venv" in log and "handover: master" in log
    finally:
        supervisor.close()

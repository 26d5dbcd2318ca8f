"""Prometheus multiprocess mode under real gunicorn workers: ``/metrics`` sums every worker
whichever answers, keeps ``process_*`` for the master and each worker, forgets dead workers'
live gauges, and a start clears what dead processes left in the directory."""

import re
import time
from pathlib import Path

import pytest

from tests.servers import Session, StreamReader

pytestmark = [pytest.mark.server, pytest.mark.services]


def samples(session: Session, name: str) -> dict[str, float]:
    status, text = session.request("GET", "/metrics")
    assert status == 200
    found = {}
    for line in text.splitlines():
        if line.startswith(name):
            labels, _, value = line.rpartition(" ")
            found[labels] = float(value)
    return found


def test_metrics_sum_the_workers_and_keep_process_metrics(tmp_path, shared_db, servers):
    url, shop = shared_db
    server = servers(url, workers=2)
    directory = server.env["PROMETHEUS_MULTIPROC_DIR"]
    admin = Session(server.base, shop.admin.username, shop.password)
    streams = [StreamReader(admin) for _ in range(6)]
    try:
        for stream in streams:
            stream.wait_for(lambda frame: frame.get("id") is not None)
        pids = {stream.worker_pid for stream in streams}
        # Whichever worker answers, the sum is every worker's streams.
        for _ in range(6):
            assert samples(admin, "orderpulse_open_streams") == {"orderpulse_open_streams": 6.0}
        memory = samples(admin, "process_resident_memory_bytes{")
        roles = {re.search(r'role="(\w+)"', key).group(1) for key in memory}
        assert roles == {"master", "worker"}
        worker_pids = {int(re.search(r'pid="(\d+)"', k).group(1)) for k in memory if "worker" in k}
        assert pids <= worker_pids and len(worker_pids) == 2
        requests = samples(admin, "orderpulse_http_requests_total{")
        assert any('route="/admin/orders/stream"' in key for key in requests)
    finally:
        for stream in streams:
            stream.close()

    old = server.worker_pids()
    server.hup()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (
        server.worker_pids() & old or len(server.worker_pids()) < 2
    ):
        time.sleep(0.1)
    files = " ".join(p.name for p in Path(directory).iterdir())
    for pid in old:
        assert f"gauge_livesum_{pid}.db" not in files, "a dead worker's live gauges go"
    # A new start (the same directory): files of processes that no longer run are removed.
    server.stop()
    server.start()
    left = " ".join(p.name for p in Path(directory).iterdir())
    for pid in old:
        assert f"_{pid}.db" not in left

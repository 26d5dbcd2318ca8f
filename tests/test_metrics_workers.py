"""Prometheus multiprocess mode under real gunicorn workers: ``/metrics`` sums every worker
whichever answers, keeps ``process_*`` for the master and each worker, forgets dead workers'
live gauges, and a start clears what dead processes left in the directory."""

import re
from pathlib import Path

import pytest

from tests.helpers import wait_until
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
        assert any('route="/auth/login"' in key and 'method="POST"' in key for key in requests)
    finally:
        for stream in streams:
            stream.close()

    old = server.worker_pids()
    server.hup()
    wait_until(
        lambda: not server.worker_pids() & old and len(server.worker_pids()) >= 2,
        what="two new workers in place of the old ones",
    )
    files = " ".join(p.name for p in Path(directory).iterdir())
    for pid in old:
        assert f"gauge_livesum_{pid}.db" not in files, "a dead worker's live gauges go"
    # A new start on the same directory (one worker: the master is what removes them):
    # files of processes that no longer run are removed.
    server.stop()
    servers(url, workers=1, PROMETHEUS_MULTIPROC_DIR=directory)
    left = " ".join(p.name for p in Path(directory).iterdir())
    for pid in old:
        assert f"_{pid}.db" not in left


def test_log_format_json_makes_every_line_of_every_process_json(shared_db, servers):
    """gunicorn's master and workers and the app share one format: with ``LOG_FORMAT=json``
    no line of the server's output is anything but a JSON object, the startup line and the
    access line (with the request id the client sent) among them."""
    url, _shop = shared_db
    server = servers(url, workers=1, LOG_FORMAT="json", ACCESS_LOG="")
    visitor = Session(server.base)
    visitor.request("GET", "/healthz", headers={"X-Request-ID": "trace-me-42"})
    # The access line is written after the answer went out; stop() kills at once.
    wait_until(lambda: "trace-me-42" in server.log_path.read_text(), what="the access line")
    server.stop()
    records = server.log_records()
    messages = [r["message"] for r in records]
    assert any(m.startswith("Order Pulse starting: backend=postgres") for m in messages)
    assert any(m.startswith("Booting worker") for m in messages), "gunicorn's own lines"
    access = [r for r in records if r["logger"] == "orderpulse.access" and r["path"] == "/healthz"]
    assert access[-1]["request_id"] == "trace-me-42" and access[-1]["status"] == 200
    assert {"method", "duration_ms", "bytes", "remote_addr"} <= set(access[-1])

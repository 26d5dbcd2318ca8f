"""Prometheus metrics with ``prometheus_client``.

Under gunicorn with several workers, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory
(``gunicorn.conf.py`` marks dead workers): every worker writes its samples there and
``/metrics`` aggregates them (prometheus_client's multiprocess mode). Without it, the
default registry of this process is served.
"""

import os
import sys

# Only gunicorn's workers share the multiprocess directory. A CLI command run with the
# service's env file ("flask --env-file /etc/orderpulse.env db upgrade") keeps its metrics
# to itself: its files would outlive it there (no child_exit marks it dead), and the
# directory is systemd's runtime directory, absent while the service is stopped.
# prometheus_client reads the variable when it is imported, hence before the import.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR") and "gunicorn" not in sys.modules:
    del os.environ["PROMETHEUS_MULTIPROC_DIR"]

from prometheus_client import (  # noqa: E402  (after the environment is settled)
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Metric,
    ProcessCollector,
    generate_latest,
    multiprocess,
)

OPEN_STREAMS = Gauge(
    "orderpulse_open_streams",
    "Open SSE streams (admin and order tracking)",
    multiprocess_mode="livesum",
)
DIRECT_STREAMS = Gauge(
    "orderpulse_direct_streams",
    "Streams the hub writes to directly (gunicorn gevent)",
    multiprocess_mode="livesum",
)
FRAMES_SENT = Counter("orderpulse_frames_sent", "SSE frames written or queued to streams")
DELIVERY_LAG = Histogram(
    "orderpulse_publish_delivery_seconds",
    "Seconds from an order commit's publish to its frame being handed to every stream",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
FALLBACK_POLLS = Counter("orderpulse_fallback_polls", "JSON polling fallback requests served")
EVENT_LOOP_LAG = Histogram(
    "orderpulse_event_loop_lag_seconds",
    "How late a 0.25 s timer fires in a gevent worker: time something blocked the loop",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
BACKEND_RECONNECTS = Counter(
    "orderpulse_backend_reconnects",
    "Reconnections of a worker's Redis subscriber or PostgreSQL listener",
    ["backend"],
)

PRESENCE_MESSAGES = Counter(
    "orderpulse_presence_messages",
    "Presence messages this worker sent through its backend (docs/design.md §5a), by op",
    ["op"],
)


# -- operations: requests, the database pool, dependencies, stream starts and drops ------
REQUESTS = Counter(
    "orderpulse_http_requests",
    "HTTP requests answered, by route (the URL rule, not the path), method and status",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "orderpulse_http_request_duration_seconds",
    "Seconds from a request's arrival to its response's start (a stream: to its headers)",
    ["route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
POOL_CHECKED_OUT = Gauge(
    "orderpulse_db_pool_checked_out",
    "Database connections in use (checked out of the worker's SQLAlchemy pool)",
    multiprocess_mode="livesum",
)
POOL_OVERFLOW = Gauge(
    "orderpulse_db_pool_overflow",
    "Connections open beyond DATABASE_POOL_SIZE (negative: pool not yet full)",
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "orderpulse_db_pool_size",
    "DATABASE_POOL_SIZE + DATABASE_MAX_OVERFLOW: the most connections a worker opens",
    multiprocess_mode="livesum",
)
DEPENDENCY_UP = Gauge(
    "orderpulse_dependency_up",
    "1 when the last check or use of a dependency (database, redis) worked, else 0",
    ["dependency"],
    multiprocess_mode="mostrecent",
)
WORKERS_CONFIGURED = Gauge(
    "orderpulse_workers_configured",
    "Workers gunicorn's master should keep running (WEB_CONCURRENCY): the alert rules "
    "compare it with the workers that report process metrics",
    multiprocess_mode="mostrecent",
)
STREAM_STARTS = Counter(
    "orderpulse_stream_starts",
    "Dashboard streams started: fresh (no id), resume (Last-Event-ID within the window), "
    "reset (beyond it)",
    ["kind"],
)
STREAM_DROPS = Counter(
    "orderpulse_stream_drops",
    "Streams ended because the client left a frame unsent for SSE_WRITE_TIMEOUT_SECONDS",
)
STREAM_OVERFLOWS = Counter(
    "orderpulse_stream_overflows",
    "Streams ended because they fell SSE_EVENT_QUEUE_SIZE events behind (their clients "
    "resume from Last-Event-ID; no frame is dropped)",
)


def start_kind(since, first_frame: bytes) -> str:
    """``fresh``, ``resume`` or ``reset``: what a dashboard stream's first frame was."""
    if since is None:
        return "fresh"
    return "reset" if b'"type":"reset"' in first_frame[:64] else "resume"


BUSY_ANSWERS = Counter(
    "orderpulse_busy_stream_answers",
    "Stream requests answered with retry: because the database pool had no connection in time",
)
DRAINING_ANSWERS = Counter(
    "orderpulse_draining_stream_answers",
    "Stream requests a shutting-down worker answered with retry: and Connection: close",
)


def render() -> tuple[bytes, str]:
    """``(body, content_type)`` of the Prometheus text exposition for this deployment. In
    multiprocess mode every worker's samples are summed, and the ``process_*`` metrics of
    gunicorn's master and of every live worker are added with a ``pid`` label
    (prometheus_client's multiprocess collector has none of its own)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(ProcessesCollector(os.environ["PROMETHEUS_MULTIPROC_DIR"]))
    else:
        registry = REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST


class ProcessesCollector:
    """``process_*`` (CPU seconds, resident memory, open files, start time) for gunicorn's
    master and each live worker, labelled ``pid`` and ``role``. Workers are found by the
    files they wrote in the multiprocess directory (``<kind>_<pid>.db``)."""

    def __init__(self, directory: str):
        self.directory = directory

    def pids(self) -> dict[int, str]:
        found = {os.getpid(): "worker"}
        for name in os.listdir(self.directory):
            stem = name.rsplit(".", 1)[0]
            tail = stem.rsplit("_", 1)[-1]
            if tail.isdigit() and os.path.exists(f"/proc/{tail}"):
                found[int(tail)] = "worker"
        parent = os.getppid()
        if parent > 1 and parent not in found:
            found[parent] = "master"
        return found

    def collect(self):
        merged: dict[str, Metric] = {}
        for pid, role in sorted(self.pids().items()):
            for family in ProcessCollector(pid=lambda pid=pid: pid, registry=None).collect():
                target = merged.get(family.name)
                if target is None:
                    target = merged[family.name] = Metric(
                        family.name, family.documentation, family.type
                    )
                for sample in family.samples:
                    labels = {**sample.labels, "pid": str(pid), "role": role}
                    target.add_sample(sample.name, labels, sample.value)
        yield from merged.values()


def mark_worker_dead(pid: int) -> None:
    """Drop a dead worker's live gauges (open streams, pool): gunicorn's ``child_exit`` hook
    does the same without importing the app (``gunicorn.conf.py``)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)

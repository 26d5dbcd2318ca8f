"""Prometheus metrics with ``prometheus_client``.

Under gunicorn with several workers, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory
(``gunicorn.conf.py`` marks dead workers): every worker writes its samples there and
``/metrics`` aggregates them (prometheus_client's multiprocess mode). Without it, the
default registry of this process is served.
"""

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
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


def render() -> tuple[bytes, str]:
    """``(body, content_type)`` of the Prometheus text exposition for this deployment."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST


def mark_worker_dead(pid: int) -> None:
    """gunicorn ``child_exit`` hook: drop a dead worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)

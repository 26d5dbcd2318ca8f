"""gunicorn settings (docs/design.md §1). Must not import the app: the gevent worker patches the
standard library before the app is imported, and ``preload_app`` stays off for the same
reason (and so each worker builds its own hub)."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import config as settings  # noqa: E402  (the settings only: never the app)

try:
    CONFIG_NAME = settings.check_environment()
except settings.ConfigError as exc:  # one line naming the setting, no traceback
    sys.exit(f"orderpulse: refusing to start: {exc}")

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
worker_class = "gevent"
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "10000"))
keepalive = 75  # seconds; above nginx's upstream keepalive_timeout so nginx closes first
timeout = 30
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "20"))
preload_app = False
accesslog = os.environ.get("ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
# gunicorn's control socket (for gunicornc) only at a path given: its default path is one per
# user, which every server that user starts (tests, benchmarks, two apps) would share.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True


def on_starting(server):
    """Refuse production with several workers whose rate limits would each count in their
    own memory (SQLite without Redis): each would let the whole limit through."""
    storage = settings.limit_storage(
        os.environ.get("RATELIMIT_STORAGE_URI"),
        os.environ.get("REDIS_URL"),
        os.environ.get("DATABASE_URL", ""),
    )
    if CONFIG_NAME == "production" and server.cfg.workers > 1 and storage == "memory://":
        sys.exit(
            f"orderpulse: refusing to start: {server.cfg.workers} workers with rate limits "
            "in each worker's memory: set REDIS_URL, use PostgreSQL, or run one worker"
        )


def post_worker_init(worker):
    """When this worker starts shutting down (SIGTERM, HUP reload, max_requests recycle),
    end its SSE streams with a ``retry:`` hint at once: otherwise open streams would hold the
    worker for the whole graceful timeout and browsers would reconnect only after it."""
    import gevent

    def watch():
        while worker.alive:
            gevent.sleep(0.1)
        # The worker's loop stops accepting within a second of this (it closes its
        # listeners); end the streams only then, so that their reconnects land on the
        # workers that replace this one rather than on this one (which would refuse them).
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and any(
            getattr(listener, "sock", None) is not None for listener in worker.sockets
        ):
            gevent.sleep(0.05)
        from app.realtime import close_all_streams

        closed = close_all_streams()
        worker.log.info("worker %s closing: ended %d stream(s)", worker.pid, closed)

    def probe_loop_lag(interval: float = 0.25):
        # A timer that fires late means something held the loop: one cheap sample per
        # interval, unlike gevent's monitor thread, whose reports walk every greenlet.
        from app.metrics import EVENT_LOOP_LAG

        while True:
            started = time.monotonic()
            gevent.sleep(interval)
            EVENT_LOOP_LAG.observe(max(0.0, time.monotonic() - started - interval))

    gevent.spawn(watch)
    gevent.spawn(probe_loop_lag)


def child_exit(server, worker):
    """Prometheus multiprocess mode: forget a dead worker's live gauges (open streams)."""
    from app.metrics import mark_worker_dead

    mark_worker_dead(worker.pid)

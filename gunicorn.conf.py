"""gunicorn settings (docs/design.md §1). Must not import the app: the gevent worker patches the
standard library before the app is imported, and ``preload_app`` stays off for the same
reason (and so each worker builds its own hub). The hooks below import it lazily, inside
the workers only.

Under systemd (``deploy/orderpulse.service``, ``deploy/orderpulse.socket``), gunicorn takes
its listening socket from systemd (``LISTEN_FDS``) and ``bind`` is ignored, so a restart
queues new connections instead of refusing them; and ``systemctl reload`` is gunicorn's
USR2 handover to the release ``/srv/orderpulse/current`` points at: a new master (new code,
new virtualenv, the env file read again) starts beside the old one on the same socket, and
its first worker to boot stops the old master, which drains (``handover`` below;
docs/operations.md, "Releases").
"""

import glob
import os
import signal
import sys
import time

# The env file is read again by every new master: a USR2 handover inherits the old master's
# environment, so an edited /etc/orderpulse.env takes effect at the next "systemctl reload".
# Before config is imported, which parses the environment once.
if os.environ.get("ORDERPULSE_ENV_FILE"):
    from dotenv import load_dotenv

    load_dotenv(os.environ["ORDERPULSE_ENV_FILE"], override=True)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import config as settings  # noqa: E402  (the settings only: never the app)

try:
    CONFIG_NAME = settings.check_environment()
except settings.ConfigError as exc:  # one line naming the setting, no traceback
    sys.exit(f"orderpulse: refusing to start: {exc}")

import logsetup  # noqa: E402  (logging only: never the app)

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
worker_class = "gevent"
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "10000"))
keepalive = 75  # seconds; above nginx's upstream keepalive_timeout so nginx closes first
timeout = 30
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "20"))
# Seconds a draining worker keeps its idle keep-alive connections before closing them:
# above nginx's upstream keepalive_timeout (4 s in deploy/orderpulse-site.conf), so nginx
# closes them first and never sends a request into our close (app/drain.py).
drain_idle_seconds = float(os.environ.get("DRAIN_IDLE_SECONDS", "5"))
preload_app = False
# The app writes its own access line (app/logs.py: request id, real client, duration,
# bytes of streams included); gunicorn's (nginx's address, 0 bytes for streams) only when
# ACCESS_LOG names a file.
accesslog = os.environ.get("ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
# One format for every line of every process (logsetup.py): gunicorn's, the app's.
logconfig_dict = logsetup.dict_config()
if accesslog:
    logconfig_dict["loggers"]["gunicorn.access"]["level"] = "INFO"
else:
    logconfig_dict["loggers"]["gunicorn.access"]["level"] = "WARNING"
# gunicorn's control socket (for gunicornc) only at a path given: its default path is one per
# user, which every server that user starts (tests, benchmarks, two apps) would share.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True

# prometheus_client's multiprocess mode keeps "live" gauges in files named like this; the
# same removal as prometheus_client.multiprocess.mark_process_dead, without importing it
# into the master before gevent patches the workers.
LIVE_GAUGES = ("gauge_livesum_{}.db", "gauge_liveall_{}.db", "gauge_livemin_{}.db",
               "gauge_livemax_{}.db", "gauge_livemostrecent_{}.db")  # fmt: skip


def on_starting(server):
    """Refuse production with several workers whose rate limits would each count in their
    own memory (SQLite without Redis): each would let the whole limit through. Then, in
    Prometheus multiprocess mode, wipe what processes that no longer run left in
    ``PROMETHEUS_MULTIPROC_DIR`` (a restart's old workers), so it does not grow with every
    restart and dead workers' gauges do not linger."""

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

    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return
    os.makedirs(directory, exist_ok=True)
    removed = 0
    for path in glob.glob(os.path.join(directory, "*.db")):
        pid = os.path.basename(path)[:-3].rsplit("_", 1)[-1]
        if not (pid.isdigit() and os.path.exists(f"/proc/{pid}")):
            os.remove(path)
            removed += 1
    server.log.info(
        "metrics directory %s: removed %d file(s) of dead processes", directory, removed
    )


def post_worker_init(worker):
    """Say what this worker chose and whether its database and Redis answer (one line
    each, app/startup.py); and when it starts shutting down (SIGTERM, HUP reload,
    ``max_requests`` recycle), drain: answer with ``Connection: close``, close idle
    keep-alive connections after ``DRAIN_IDLE_SECONDS``, turn new streams away with
    ``retry:``, then end open streams with a ``retry:`` hint so that
    browsers reconnect to the workers replacing this one (docs/design.md §5b)."""
    import gevent

    def announce():
        from app import startup

        app = worker.wsgi
        if not hasattr(app, "config"):  # the app failed to load: gunicorn logged why
            return
        from app.metrics import WORKERS_CONFIGURED

        WORKERS_CONFIGURED.set(worker.cfg.workers)
        worker.log.info("%s", startup.describe(app, worker.cfg.workers))
        if app.config.get("STARTUP_CHECKS", True):
            startup.check(app)

    import gevent.event

    worker.orderpulse_drained = drained = gevent.event.Event()  # read by worker_exit

    def watch():
        while worker.alive:
            gevent.sleep(0.1)
        from app import drain
        from app.realtime import close_all_streams

        began = time.monotonic()
        drain.start_draining()
        idle_closer = gevent.spawn_later(drain_idle_seconds, drain.close_idle)
        # The worker's loop stops accepting within a second of this (it closes its
        # listeners); end the streams only then, so that their reconnects land on the
        # workers that replace this one.
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and any(
            getattr(listener, "sock", None) is not None for listener in worker.sockets
        ):
            gevent.sleep(0.05)
        # Their ends spread over SSE_SHUTDOWN_SPREAD_SECONDS, but over at most half of the
        # graceful timeout left, so that the last ones still get their retry: out.
        left = worker.cfg.graceful_timeout - (time.monotonic() - began)
        closed = close_all_streams(within=max(0.0, left / 2))
        closed_idle = idle_closer.get()
        drained.set()
        worker.log.info(
            "worker %s draining: closed %d idle connection(s), ended %d stream(s)",
            worker.pid,
            closed_idle,
            closed,
        )

    def probe_loop_lag(interval: float = 0.25):
        # A timer that fires late means something held the loop: one cheap sample per
        # interval, unlike gevent's monitor thread, whose reports walk every greenlet.
        from app.metrics import EVENT_LOOP_LAG

        while True:
            started = time.monotonic()
            gevent.sleep(interval)
            EVENT_LOOP_LAG.observe(max(0.0, time.monotonic() - started - interval))

    handover(worker)
    gevent.spawn(announce)
    gevent.spawn(watch)
    gevent.spawn(probe_loop_lag)


def worker_exit(server, worker):
    """Streams handed over to the hub (``app/realtime/direct.py``) hold none of gunicorn's
    greenlets, so gunicorn's graceful wait ends without them: wait here, within the graceful
    timeout, until the drain has ended them and their last bytes (``retry:``, the last
    chunk) are out, as gunicorn waits for the requests it still serves."""
    drained = getattr(worker, "orderpulse_drained", None)
    if drained is None:  # never booted
        return
    import gevent

    from app.realtime import open_stream_count

    # No heartbeat to the master here (gunicorn has closed the worker's heartbeat file by
    # now): the wait stays within the graceful timeout, below gunicorn's worker timeout.
    deadline = time.monotonic() + worker.cfg.graceful_timeout
    while time.monotonic() < deadline and (not drained.is_set() or open_stream_count()):
        gevent.sleep(0.05)


def pre_exec(server):
    """USR2 under systemd: gunicorn tells the new master its socket is fd 3 (``LISTEN_FDS``),
    but keeps its own copy under another number after taking it over; put it back on fd 3
    (and up) in the child about to exec, as systemd would pass it."""
    if getattr(server, "systemd", False):
        for offset, listener in enumerate(server.LISTENERS):
            os.dup2(listener.fileno(), 3 + offset)  # dup2's copy is inheritable


def handover(worker):
    """In a master started by USR2 (gunicorn sets ``GUNICORN_PID`` to the old master's pid),
    the first worker to boot completes the handover: it tells systemd that its master is the
    service's main process now (``MAINPID=``, which needs ``NotifyAccess=all``), then sends
    the old master SIGTERM; the old workers drain while this release's workers serve. A new
    release that cannot boot never gets here, and the old one keeps serving."""
    old = os.environ.get("GUNICORN_PID")
    if not old or worker.age != 1 or not old.isdigit():
        return
    try:
        with open(f"/proc/{old}/cmdline", "rb") as f:
            if b"gunicorn" not in f.read():
                return  # not our old master any more (the pid was reused)
    except OSError:
        return  # gone already
    from gunicorn import systemd

    systemd.sd_notify(f"MAINPID={worker.ppid}\nREADY=1", worker.log)
    worker.log.info("handover: master %s takes over from master %s", worker.ppid, old)
    os.kill(int(old), signal.SIGTERM)


def child_exit(server, worker):
    """Prometheus multiprocess mode: forget a dead worker's live gauges (open streams, the
    pool); its counters stay, so that sums never go backwards."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        for pattern in LIVE_GAUGES:
            path = os.path.join(directory, pattern.format(worker.pid))
            if os.path.exists(path):
                os.remove(path)

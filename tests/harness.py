"""One way to run gunicorn for the tests and the benchmarks: ``GunicornServer`` starts the
project's own ``gunicorn -c gunicorn.conf.py wsgi:app`` (gevent) on a free loopback port,
waits until it answers ``/healthz`` with every worker booted, and stops it.

What every caller shares: the port (free, or one given; a port another process took
between the choice and gunicorn's bind is chosen again), the environment (``os.environ``,
then the caller's defaults, then its settings; ``None`` removes a variable), the worker
count, TLS (gunicorn's ``--certfile``), the log file, the metrics directory (Prometheus
multiprocess mode, so ``/metrics`` sums the workers), ``hup()`` (graceful reload), the
workers' pids, a graceful ``terminate()`` (what a deploy does: the drain runs) and the
teardown ``stop()``.

Teardown is ``stop()``: SIGKILL to the server's process group at once (gunicorn runs in a
group of its own, so the master and every worker go together). A graceful exit takes
seconds and proves nothing at teardown (the 0.2 s grace teardown once gave it only ever ran
out): gunicorn drains open streams and keep-alive connections for up to
``GRACEFUL_TIMEOUT``, and each exiting worker then spends one to two seconds of CPU tearing
its interpreter down (measured with ``strace``: no system call between the last signal
handler reset and ``exit_group``). The drain is tested where it is the subject
(``tests/test_draining.py``, ``tests/browser/test_restarts.py``) through ``terminate()``.
"""

import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

from tests.helpers import wait_until

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).parent / "gunicorn")

# The settings of a test server unless the caller says otherwise: small timings, no rate
# limits (the limits have tests of their own), the worker's pid on every answer.
TEST_ENV = {
    "ORDERPULSE_CONFIG": "development",
    "SECRET_KEY": "server-test-secret",
    "WORKER_CONNECTIONS": "500",
    "GRACEFUL_TIMEOUT": "10",
    "ACCESS_LOG": "/dev/null",
    "EXPOSE_WORKER_PID": "1",
    # These tests place orders in bursts; the limits have their own tests.
    "RATELIMIT_ENABLED": "0",
    # One admin logs in from dozens of clients (41 addresses behind nginx); the per-user
    # session cap has tests of its own.
    "SESSION_MAX_PER_USER": "1000",
    "SSE_HEARTBEAT_SECONDS": "0.5",
    "SSE_RETRY_MS": "100",
    # A restart ends streams over this long (tests that measure it set their own).
    "SSE_SHUTDOWN_SPREAD_SECONDS": "0.3",
    # A draining worker closes its idle keep-alive connections after this long, and every
    # HUP, SIGTERM and restart waits for it: production's 5 s outlasts nginx's upstream
    # keepalive_timeout so that no checkout meets the close. Here only clients that connect
    # per request (and streams, which nginx retries) meet a drain; the tests of the wait
    # itself and of checkouts through nginx during a drain set their own.
    "DRAIN_IDLE_SECONDS": "0.5",
}


def bytecode_settings(environ) -> dict:
    """With ``PYTHONDONTWRITEBYTECODE`` set (some sandboxes set it, to keep ``__pycache__``
    out of the tree), every worker compiled the app's 130 modules again at each boot
    (0.12 CPU-s of its 1 s): a server writes its bytecode to a cache of its own outside the
    tree instead (``PYTHONPYCACHEPREFIX``; compiled once, checked against the sources'
    times). Nothing changes without the variable."""
    if not environ.get("PYTHONDONTWRITEBYTECODE"):
        return {}
    prefix = Path(tempfile.gettempdir()) / f"orderpulse-pycache-{os.getuid()}"
    return {"PYTHONDONTWRITEBYTECODE": None, "PYTHONPYCACHEPREFIX": str(prefix)}


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kill_group(pid: int, grace: float = 0.2, sig: int = signal.SIGTERM) -> None:
    """``sig`` to the process ``pid``, up to ``grace`` seconds for it to exit, then SIGKILL
    to its whole process group (``pid`` leads it: started with ``process_group=0``)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _running(pid):
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class GunicornServer:
    """``gunicorn -c gunicorn.conf.py wsgi:app`` on 127.0.0.1, its files under ``workdir``.

    ``database_url`` becomes ``DATABASE_URL``; ``tls`` = ``(certfile, keyfile, cafile)``
    makes gunicorn serve HTTPS itself; ``defaults`` are the settings under the caller's
    ``env`` (``TEST_ENV`` unless given), on top of this process's environment unless
    ``inherit_env=False`` (then ``PATH`` only); ``metrics=True`` gives the server a metrics
    directory of its own (``PROMETHEUS_MULTIPROC_DIR``); ``gunicorn``, ``cwd`` and
    ``config`` run another checkout's or release's gunicorn (a benchmark's "before").
    """

    def __init__(
        self,
        workdir: Path,
        database_url: str | None = None,
        workers: int = 1,
        tls=None,
        *,
        port: int | None = None,
        defaults: dict | None = None,
        metrics: bool = True,
        inherit_env: bool = True,
        gunicorn: str = GUNICORN,
        cwd: Path = ROOT,
        config: str = "gunicorn.conf.py",
        **env,
    ):
        self.workdir = Path(workdir)
        self.worker_count = workers
        self._fixed_port = port is not None
        self.port = port or free_port()
        self.scheme = "https" if tls else "http"
        self.ssl_context = ssl.create_default_context(cafile=str(tls[2])) if tls else None
        self.command = [gunicorn, "-c", config, "wsgi:app"]
        self.cwd = cwd
        settings = dict(TEST_ENV if defaults is None else defaults)
        if tls:
            settings["GUNICORN_CMD_ARGS"] = f"--certfile={tls[0]} --keyfile={tls[1]}"
        if database_url is not None:
            settings["DATABASE_URL"] = database_url
        if metrics:
            metrics_dir = self.workdir / f"metrics-{self.port}"
            metrics_dir.mkdir(parents=True, exist_ok=True)
            settings["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        settings["WEB_CONCURRENCY"] = str(workers)
        settings["PYTHONPATH"] = str(ROOT)
        inherited = os.environ if inherit_env else {"PATH": os.environ.get("PATH", "")}
        settings.update(bytecode_settings({**inherited, **settings}))
        settings.update(env)
        merged = {**inherited, **settings}
        self.env = {key: str(value) for key, value in merged.items() if value is not None}
        self.env["BIND"] = f"127.0.0.1:{self.port}"
        self.log_path = self.workdir / f"gunicorn-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    url = base

    def start(self, timeout: float = 60) -> "GunicornServer":
        """Start it and wait until ``/healthz`` answers 200 with all workers booted. A port
        taken by someone else since it was chosen is chosen again (unless it was given)."""
        for _attempt in range(3):
            self._spawn()
            try:
                wait_until(
                    self._ready,
                    timeout,
                    f"gunicorn on port {self.port} answering /healthz with "
                    f"{self.worker_count} worker(s); log: {self.log_path}",
                )
                return self
            except _PortTaken:
                self.stop()
                self.port = free_port()
                self.env["BIND"] = f"127.0.0.1:{self.port}"
            except BaseException:
                self.stop()
                raise
        raise RuntimeError(f"no free port for gunicorn: {self.log()}")

    def _spawn(self) -> None:
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                process_group=0,  # stop() kills the master and its workers together
            )

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            text = self.log_path.read_text(errors="replace")[self._log_offset :]
            if "Address already in use" in text and not self._fixed_port:
                raise _PortTaken
            raise RuntimeError(f"gunicorn exited ({self.proc.returncode}): {text[-4000:]}")
        return len(self.worker_pids()) >= self.worker_count and self.healthy()

    def healthy(self) -> bool:
        """``/healthz`` answers 200 now."""
        try:
            with urllib.request.urlopen(
                f"{self.base}/healthz", timeout=2, context=self.ssl_context
            ) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def worker_pids(self) -> set[int]:
        """The master's children now (during a reload: old and new workers)."""
        try:
            return {p.pid for p in psutil.Process(self.proc.pid).children()}
        except psutil.NoSuchProcess:
            return set()

    def workers_rss(self) -> int:
        """The workers' resident memory in bytes, summed."""
        return sum(_rss(pid) for pid in self.worker_pids())

    def hup(self) -> None:
        """Graceful reload: new workers start, old ones drain (``kill -HUP`` the master)."""
        os.kill(self.proc.pid, signal.SIGHUP)

    def terminate(self, timeout: float = 30) -> int:
        """A graceful stop (SIGTERM, as a deploy sends): waits for gunicorn's drain and exit;
        returns the exit status. ``start()`` runs it again on the same port."""
        self.proc.terminate()
        return self.proc.wait(timeout)

    def restart(self, while_down=None, timeout: float = 30):
        """``terminate()``, then ``while_down()`` if given, then ``start()`` on the same port;
        returns what ``while_down`` returned."""
        self.terminate(timeout)
        try:
            return while_down() if while_down else None
        finally:
            self.start()

    def stop(self) -> None:
        """Teardown: SIGKILL to the process group, at once (no caller waited for a graceful
        exit: the module docstring says why)."""
        if self.proc is not None and self.proc.returncode is None:
            kill_group(self.proc.pid, grace=0, sig=signal.SIGKILL)
            self.proc.wait(10)

    def log(self, tail: int = 4000) -> str:
        """The end of the server's log (all runs on this port)."""
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-tail:]

    def log_records(self, start: int = 0) -> list[dict]:
        """The server's log from byte ``start`` on, one JSON object per line
        (``LOG_FORMAT=json``). Whole lines only: the server may be writing the last one as
        this reads it, or a kill may have cut it short."""
        with open(self.log_path, "rb") as log:
            log.seek(start)
            data = log.read()
        complete = data[: data.rfind(b"\n") + 1].decode()
        return [json.loads(line) for line in complete.splitlines() if line]

    def __enter__(self) -> "GunicornServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class _PortTaken(Exception):
    """gunicorn could not bind the port chosen for it."""


def _rss(pid: int) -> int:
    try:
        return psutil.Process(pid).memory_info().rss
    except psutil.NoSuchProcess:
        return 0

"""What systemd does with the shipped units, for the install and release-switch tests and
``bench/restart_bench.py`` (the releases themselves: ``tests/releases.py``).

- ``Supervisor``: ``deploy/orderpulse.socket`` + ``deploy/orderpulse.service`` as systemd
  runs them: it holds the listening socket and passes it as fd 3 (``LISTEN_FDS``), reads
  the EnvironmentFile, runs ExecStart and ExecReload as written (only ``/srv/orderpulse``
  and the env file's path replaced), listens on a ``NOTIFY_SOCKET`` for ``READY=1`` and
  ``MAINPID=``, and reaps what it started (it is a child subreaper, as systemd is).
  Everything it starts runs in one process group (a handover's new master is forked by
  the old one), which ``close()`` ends with ``tests/harness.py``'s ``kill_group``, as
  systemd ends a unit's control group.
"""

import contextlib
import ctypes
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.harness import kill_group
from tests.releases import ROOT, read_env_file

UNITS = ROOT / "deploy"
# LISTEN_PID must be the pid of the process that gets the socket: this shim sets it to its
# own pid, puts the socket on fd 3 and becomes ExecStart's program (exec keeps the pid).
SHIM = (
    "import os, sys; fd = int(sys.argv[1]); os.dup2(fd, 3); "
    "os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS='1'); "
    "os.execv(sys.argv[2], sys.argv[2:])"
)


def unit_settings(path: Path) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "[")) and "=" in line:
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


def _become_subreaper() -> None:
    # prctl(PR_SET_CHILD_SUBREAPER, 1): a master orphaned by a handover is re-parented to us.
    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)


class Supervisor:
    """systemd for ``orderpulse.socket`` + ``orderpulse.service`` under ``prefix``."""

    def __init__(self, prefix: Path, env_file: Path, port: int, log_path: Path, extra_env=None):
        self.prefix, self.env_file, self.port, self.log_path = prefix, env_file, port, log_path
        self.extra_env = extra_env or {}
        self.unit = unit_settings(UNITS / "orderpulse.service")
        socket_unit = unit_settings(UNITS / "orderpulse.socket")
        assert socket_unit["ListenStream"] == ["127.0.0.1:8000"]
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen(int(socket_unit["Backlog"][0]))
        self.listener.set_inheritable(True)
        self.notify_path = prefix / "notify.sock"
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(str(self.notify_path))
        self.main_pid: int | None = None
        self.masters: set[int] = set()
        self.groups: set[int] = set()
        self.ready = threading.Event()
        self.messages: list[str] = []
        self._stop = False
        _become_subreaper()
        threading.Thread(target=self._listen, daemon=True).start()
        threading.Thread(target=self._reap, daemon=True).start()

    def _path(self, text: str) -> str:
        text = text.replace("/etc/orderpulse.env", str(self.env_file))
        return text.replace("/srv/orderpulse", str(self.prefix))

    def _listen(self) -> None:
        self.notify.settimeout(0.2)
        while not self._stop:
            try:
                data = self.notify.recv(4096).decode()
            except (TimeoutError, OSError):
                continue
            self.messages.append(data)
            for line in data.splitlines():
                if line.startswith("MAINPID="):
                    self.main_pid = int(line.split("=", 1)[1])
                    self.masters.add(self.main_pid)
                elif line == "READY=1":
                    self.ready.set()

    def _reap(self) -> None:
        # Only the masters this supervisor knows of (a waitpid(-1) would steal the exit
        # status of the test's other subprocesses).
        while not self._stop:
            for pid in list(self.masters):
                with contextlib.suppress(ChildProcessError):
                    if os.waitpid(pid, os.WNOHANG)[0] == pid:
                        self.masters.discard(pid)
            time.sleep(0.05)

    def environment(self) -> dict:
        env = {key: value for key, value in os.environ.items() if key.startswith(("LC_", "LANG"))}
        env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
        env.update(read_env_file(self.env_file))
        for assignment in self.unit.get("Environment", []):
            key, _, value = assignment.partition("=")
            env[key] = self._path(value)
        env["NOTIFY_SOCKET"] = str(self.notify_path)
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 30) -> int:
        """ExecStart in WorkingDirectory (resolved, as chdir does); returns the main pid once
        gunicorn said READY=1."""
        self.ready.clear()
        cwd = os.path.realpath(self._path(self.unit["WorkingDirectory"][0]))
        argv = shlex.split(self._path(self.unit["ExecStart"][0]))
        fd = self.listener.fileno()
        with open(self.log_path, "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-c", SHIM, str(fd), *argv],
                cwd=cwd,
                env=self.environment(),
                pass_fds=(fd,),
                stdout=log,
                stderr=subprocess.STDOUT,
                process_group=0,
            )
        self.groups.add(proc.pid)
        self.main_pid = proc.pid
        self.masters.add(proc.pid)
        if not self.ready.wait(timeout):
            raise RuntimeError(f"no READY=1 from gunicorn: {self.log()}")
        return self.main_pid

    def reload(self, timeout: float = 120) -> subprocess.CompletedProcess:
        """ExecReload with ``$MAINPID``, as ``systemctl reload`` runs it."""
        command = self._path(self.unit["ExecReload"][0]).replace("$MAINPID", str(self.main_pid))
        return subprocess.run(
            shlex.split(command),
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def stop(self, timeout: float = 30) -> None:
        """KillMode=mixed: SIGTERM to the main process, wait for it (then SIGKILL)."""
        pid = self.main_pid
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)

    def restart(self) -> int:
        self.stop()
        return self.start()

    def workers(self) -> list[int]:
        """The main process's children (its gunicorn workers)."""
        try:
            text = Path(f"/proc/{self.main_pid}/task/{self.main_pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in text.split()]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def close(self) -> None:
        """Teardown: every master this supervisor started and their workers, at once (their
        graceful stop is what ``stop()`` and the tests that call it are for)."""
        for group in self.groups:
            kill_group(group, grace=0)
        self._stop = True
        self.listener.close()
        self.notify.close()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False

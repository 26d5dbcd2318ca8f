"""The install in docs/operations.md, run as written: its shell blocks (marked
``<!-- install-step: NAME -->``) for the release, the PostgreSQL role and database, the env
file, the migrations and the first admin, in a temporary prefix; then the shipped units as
systemd runs them and the shipped nginx with TLS; then an admin logs in through nginx.

What cannot run here is replaced, and only that: ``sudo -u USER`` runs as the test's user,
``install -o/-g`` keeps the test's owner, the names of step 0 point into the prefix,
``python3 -m venv`` makes a virtualenv that sees the test's packages (so ``pip install``
finds every pinned requirement already there instead of downloading it), and the env file
gets this machine's Redis channel and metrics directory as an operator would edit them.
"""

import os
import re
import shutil
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from tests.release_harness import Supervisor
from tests.releases import ROOT
from tests.servers import Session, free_port
from tests.services_required import drop_postgres_database, redis_url

pytestmark = [pytest.mark.server, pytest.mark.services]
DOC = ROOT / "docs" / "operations.md"
STEP = re.compile(r"<!-- install-step: (\w+) -->\n```sh\n(.*?)```", re.S)
PASSWORD = "install-test-password-1"

PRELUDE = r"""
set -euo pipefail
sudo() {
  while [ $# -gt 0 ]; do case "$1" in -u) shift 2 ;; -*) shift ;; *) break ;; esac; done
  "$@"
}
install() {
  local args=()
  while [ $# -gt 0 ]; do case "$1" in -o|-g) shift 2 ;; *) args+=("$1"); shift ;; esac; done
  command install "${args[@]}"
}
"""
# python3 -m venv DIR: the harness's virtualenv; any other python3 call: the real one.
PYTHON_SHIM = """#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  exec {python} -c "import sys; from pathlib import Path; sys.path.insert(0, '{root}'); \\
from tests.releases import make_venv; make_venv(Path(sys.argv[1]))" "$3"
fi
exec {python} "$@"
"""


def steps() -> dict[str, str]:
    return dict(STEP.findall(DOC.read_text()))


def test_the_docs_have_every_install_step():
    names = steps()
    for name in ("names", "packages", "user", "release", "database", "env", "migrate", "admin"):
        assert name in names, name
    for name in ("systemd", "nginx", "switch"):
        assert name in names, name
    assert "rm -f /etc/nginx/sites-enabled/default" in names["nginx"]
    assert "--env-file" in names["migrate"] and "create-admin" in names["admin"]


def git_archive(tarball: Path) -> None:
    """The code as a release tarball (``git archive``), uncommitted edits included."""
    stash = subprocess.run(
        ["git", "stash", "create"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    subprocess.run(
        ["git", "archive", "--format=tar.gz", "-o", str(tarball), stash or "HEAD"],
        cwd=ROOT,
        check=True,
    )


def test_install_from_the_docs_then_log_in_through_nginx(tmp_path, nginx):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs the git checkout (git archive makes the release tarball)")
    blocks = steps()
    tag = f"opinst{os.getpid()}"
    app_dir, env_file, tarball = tmp_path / "srv", tmp_path / "orderpulse.env", tmp_path / "r.tgz"
    git_archive(tarball)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "python3"
    shim.write_text(PYTHON_SHIM.format(python=sys.executable, root=ROOT))
    shim.chmod(0o755)
    names = (
        f"APP={app_dir}\nENV_FILE={env_file}\nDB_NAME={tag} DB_USER={tag}\nR=R1\n"
        f"TARBALL={tarball}\n"
    )
    channel = f"orderpulse:test:{tag}"
    edits = (
        f'sed -i "s|^REDIS_URL=.*|REDIS_URL={redis_url()}\\nREDIS_CHANNEL={channel}|" '
        f'"$ENV_FILE"\nsed -i "s|^PROMETHEUS_MULTIPROC_DIR=.*|PROMETHEUS_MULTIPROC_DIR='
        f'{tmp_path}/metrics|" "$ENV_FILE"\n'
    )
    script = PRELUDE + names + 'install -d "$APP/releases"\n'
    for name in ("release", "database", "env"):
        script += f"# step {name}\n{blocks[name]}"
    script += edits
    for name in ("migrate", "admin"):
        script += f"# step {name}\n{blocks[name]}"
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "PGHOST": "127.0.0.1",
        "PGUSER": "postgres",
        "HOME": str(tmp_path),
    }
    try:
        done = subprocess.run(
            ["bash", "-c", script],
            input=f"{PASSWORD}\n{PASSWORD}\n",
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            start_new_session=True,  # no terminal: the password prompt reads stdin
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert "Admin admin created." in done.stdout
        assert (app_dir / "current").resolve() == app_dir / "releases" / "R1"

        port = free_port()
        supervisor = Supervisor(app_dir, env_file, port, tmp_path / "gunicorn.log")
        try:
            supervisor.start()
            proxy = nginx(port, tls=True)
            context = ssl.create_default_context(cafile=str(proxy.ca_file))
            admin = Session(proxy.base, "admin", PASSWORD, ssl_context=context)
            status, page = admin.request("GET", "/admin/manage_orders")
            assert status == 200, page[:500]
            status, ready = admin.request("GET", "/readyz")
            assert status == 200 and "ready" in ready, ready
            started = "Order Pulse starting: backend=redis forwarded_allow_ips=127.0.0.1,::1"
            assert started in supervisor.log_path.read_text()
        finally:
            supervisor.close()
    finally:
        drop_postgres_database(tag)
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-c", f"DROP ROLE IF EXISTS {tag}"],
            capture_output=True,
        )

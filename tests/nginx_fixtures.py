"""Debian's nginx running the shipped ``deploy/nginx.conf`` + ``deploy/orderpulse-site.conf``
in front of a test's gunicorn server. Only what cannot work in a test is changed: file
paths (pid, logs, temp directories, the site include), the listening and upstream ports,
the certificate (made by ``trustme`` when TLS is asked for), and the ``user`` line. Every
other setting (worker_connections, worker_rlimit_nofile, forwarded headers, the /metrics
allow list, the per-address stream cap) is tested as shipped.

``tests/conftest.py`` loads this module as a plugin.
"""

import os
import pwd
import re
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.harness import ROOT, free_port
from tests.helpers import wait_until
from tests.services_required import require

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
DEPLOY = ROOT / "deploy"


@dataclass
class Proxy:
    port: int
    scheme: str
    ca_file: Path | None  # the test CA that signed nginx's certificate (TLS only)
    error_log: Path
    redirect_port: int = 0  # the plain-HTTP server that redirects to HTTPS
    access_log: Path | None = None  # the site's access log (log_format orderpulse)
    pid_file: Path | None = None

    @property
    def base(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"


def render(
    workdir: Path,
    listen_port: int,
    upstream_port: int,
    cert=None,
    redirect_port=None,
    deploy: Path = DEPLOY,
) -> Path:
    """Write the shipped main config and site into ``workdir`` with test paths and ports;
    returns the main config's path. ``cert`` is ``(certificate, key)`` for TLS + HTTP/2;
    ``redirect_port`` is the plain-HTTP server's port (the one that redirects to HTTPS);
    ``deploy`` the directory of the files (another checkout's, for a benchmark's "before")."""
    site = (deploy / "orderpulse-site.conf").read_text()
    site = site.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{redirect_port or free_port()};")
    site = site.replace("/var/log/nginx/", f"{workdir}/")
    # As an operator whose HTTPS server is not on 443 would (the site's comment says so).
    site = site.replace('set $https_port "";', f'set $https_port ":{listen_port}";')
    if cert is None:
        site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{listen_port};")
        site = re.sub(r"^\s*ssl_certificate\S*[^;]*;\n", "", site, flags=re.M)
    else:
        site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{listen_port} ssl http2;")
        site = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {cert[0]};", site)
        site = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {cert[1]};", site)
    (workdir / "site.conf").write_text(site)

    main = (deploy / "nginx.conf").read_text()
    # Workers run as the test's own user (as root, nginx would otherwise pick "nobody",
    # who cannot enter the test's private temporary directory).
    user = pwd.getpwuid(os.getuid()).pw_name
    main = re.sub(r"^user [^;]+;", f"user {user};", main, flags=re.M)
    main = main.replace("pid /run/nginx.pid;", f"pid {workdir}/nginx.pid;")
    main = main.replace("/var/log/nginx/error.log", f"{workdir}/error.log")
    main = main.replace("access_log /var/log/nginx/access.log;", "access_log off;")
    main = main.replace("include /etc/nginx/conf.d/*.conf;\n", "")
    main = main.replace("include /etc/nginx/sites-enabled/*;", f"include {workdir}/site.conf;")
    temp = "".join(
        f"    {kind}_temp_path {workdir}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = main.replace("http {\n", "http {\n" + temp, 1)
    conf = workdir / "nginx.conf"
    conf.write_text("daemon off;\n" + main)
    return conf


def _accepting(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _proxy_starter(root: Path):
    """``(start, procs)``: ``start(upstream_port, tls=False)`` runs nginx with its files in
    a new directory under ``root``; ``procs`` are the nginx processes started."""
    if not os.path.exists(NGINX):
        require("nginx", False, "install Debian's nginx-light (.ci/run does)")
    procs = []

    def start(upstream_port: int, tls: bool = False) -> Proxy:
        workdir = root / f"nginx-{len(procs)}"
        workdir.mkdir()
        port, ca_file, cert = free_port(), None, None
        if tls:
            import trustme

            ca = trustme.CA()
            issued = ca.issue_cert("127.0.0.1", "localhost")
            cert = (workdir / "cert.pem", workdir / "key.pem")
            issued.cert_chain_pems[0].write_to_path(str(cert[0]))
            issued.private_key_pem.write_to_path(str(cert[1]))
            ca_file = workdir / "ca.pem"
            ca.cert_pem.write_to_path(str(ca_file))
        redirect_port = free_port()
        conf = render(workdir, port, upstream_port, cert, redirect_port)
        check = subprocess.run([NGINX, "-t", "-c", str(conf)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        proc = subprocess.Popen([NGINX, "-c", str(conf)], stderr=subprocess.DEVNULL)
        procs.append(proc)

        def up() -> bool:
            if proc.poll() is not None:
                log = workdir / "error.log"
                raise RuntimeError(f"nginx exited: {log.exists() and log.read_text()[-2000:]}")
            return _accepting(port)

        wait_until(up, what=f"nginx on port {port}")
        return Proxy(
            port,
            "https" if tls else "http",
            ca_file,
            workdir / "error.log",
            redirect_port,
            workdir / "orderpulse.access.log",
            workdir / "nginx.pid",
        )

    return start, procs


def _stop(procs) -> None:
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def nginx(tmp_path):
    """``start(upstream_port, tls=False)`` → a running ``Proxy`` (stopped at teardown)."""
    start, procs = _proxy_starter(tmp_path)
    yield start
    _stop(procs)


@pytest.fixture(scope="module")
def module_nginx(tmp_path_factory):
    """``nginx`` for the tests of one module that share a proxy (and the server behind it:
    ``module_servers``)."""
    start, procs = _proxy_starter(tmp_path_factory.mktemp("nginx"))
    yield start
    _stop(procs)

"""Release directories as docs/operations.md lays them out (``releases/<name>`` with its own
virtualenv, ``current`` naming the one that runs), for the install and release-switch tests
and ``bench/restart_bench.py``.

``make_release`` copies a checkout's code (this one's, or another's) and makes its
virtualenv. The test's venvs see the test's packages through a ``.pth`` file (seconds
instead of a download); ``venv/bin/pip``, ``gunicorn`` and ``flask`` are the scripts pip
would write, naming the release's own interpreter.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP = shutil.ignore_patterns(
    ".venv", "venv", ".git", "tests", "bench", "artifacts", "instance", "node_modules",
    "__pycache__", ".ruff_cache", ".hypothesis", "*.png", ".pytest_cache",
)  # fmt: skip


def make_venv(path: Path) -> Path:
    """``python3 -m venv`` at ``path`` that sees this interpreter's packages (a ``.pth``
    file), with the scripts pip would write: ``pip`` (this interpreter's pip, installing
    into the new venv), ``gunicorn``, ``flask``."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    site = Path(sysconfig.get_paths()["purelib"])
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    (path / "lib" / version / "site-packages" / "orderpulse-test.pth").write_text(f"{site}\n")
    scripts = (
        ("gunicorn", "gunicorn.app.wsgiapp:run"),
        ("flask", "flask.cli:main"),
        ("pip", "pip._internal.cli.main:main"),
    )
    for name, entry in scripts:
        module, func = entry.split(":")
        script = path / "bin" / name
        script.write_text(
            f"#!{path}/bin/python\nimport sys\nfrom {module} import {func}\nsys.exit({func}())\n"
        )
        script.chmod(0o755)
    return path


def make_release(prefix: Path, name: str, source: Path = ROOT) -> Path:
    """``<prefix>/releases/<name>``: ``source``'s code and a virtualenv of its own."""
    release = prefix / "releases" / name
    shutil.copytree(source, release, ignore=SKIP)
    (release / "instance").mkdir(exist_ok=True)
    make_venv(release / "venv")
    return release


def switch(prefix: Path, release: Path) -> None:
    """Point ``current`` at ``release`` atomically (a new link renamed over the old)."""
    tmp = prefix / "current.new"
    if tmp.is_symlink():
        tmp.unlink()
    tmp.symlink_to(release.relative_to(prefix))
    os.replace(tmp, prefix / "current")


def read_env_file(path: Path) -> dict:
    """systemd's EnvironmentFile: ``KEY=VALUE`` lines, ``#`` comments."""
    env = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip().strip('"')
    return env

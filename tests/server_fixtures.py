"""Fixtures for tests against real gunicorn servers (``tests/test_servers.py``,
``tests/test_reliability*.py``): a shared PostgreSQL database, servers stopped at teardown
(per test, or per module for tests that share one), the shared Redis's settings, and a
private ``redis-server`` a test may stop and restart.

``tests/conftest.py`` loads this module as a plugin, so every test module sees them.
"""

import os
import shutil
import socket
import subprocess

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from app.models import user as user_model
from app.services.counts import ensure_rows
from tests.factories import fast_password_hash, seed_shop
from tests.harness import GunicornServer, free_port, kill_group
from tests.helpers import wait_until
from tests.services_required import (
    create_postgres_database,
    database_url,
    drop_postgres_database,
    end_other_connections,
    redis_url,
    require,
)

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


@pytest.fixture(scope="session")
def migrated_template():
    """A PostgreSQL database migrated to the head revision once per run (``flask db
    upgrade``, the real migrations): each server test's database is a copy of it."""
    name = f"orderpulse_tmpl_{os.getpid()}"
    url = create_postgres_database(name)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade(directory="migrations")
        db.session.remove()
        db.engine.dispose()
    yield name
    drop_postgres_database(name)


class DatabasePool:
    """Migrated databases for the server tests of one pytest process, reused: a database a
    test is done with is emptied and seeded again for the next one (``TRUNCATE ... RESTART
    IDENTITY``, a tenth of a second) instead of dropped and copied again: ``DROP DATABASE``
    forces a checkpoint, 0.3 to 2 s on this machine's disk."""

    def __init__(self, template: str):
        self.template = template
        self.made: list[str] = []
        self.free: list[str] = []

    def take(self) -> str:
        """A database's URL: an emptied one, or a new copy of the template."""
        if self.free:
            name = self.free.pop()
            url = database_url(name)
            empty_database(url)
            return url
        name = f"orderpulse_srv_{os.getpid()}_{len(self.made)}"
        self.made.append(name)
        return create_postgres_database(name, template=self.template)

    def give_back(self, url: str) -> None:
        self.free.append(url.rsplit("/", 1)[1])

    def drop_all(self) -> None:
        for name in self.made:
            drop_postgres_database(name)


def empty_database(url: str) -> None:
    """Every table but Alembic's emptied, its ids restarted, the counter rows back at zero:
    what a copy of the migrated template is. Connections a killed server left are ended."""
    end_other_connections(url)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            tables = conn.scalars(
                sa.text(
                    "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            ).all()
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def database_pool(migrated_template):
    pool = DatabasePool(migrated_template)
    yield pool
    pool.drop_all()


def seeded_database(pool: DatabasePool):
    """``(url, shop)``: a database from ``pool`` with the small test shop, its passwords
    hashed cheaply as in every test (``conftest.fast_password_hashing`` does not reach a
    module's fixtures), so that logging in does not cost each server a scrypt."""
    url = pool.take()
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        ensure_rows()
        db.session.commit()
        db.session.remove()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(user_model, "generate_password_hash", fast_password_hash)
        shop = seed_shop(app)
    with app.app_context():
        db.engine.dispose()
    return url, shop


@pytest.fixture
def shared_db(database_pool):
    """A migrated PostgreSQL database with the small test shop, for servers to share:
    ``(url, shop)``."""
    url, shop = seeded_database(database_pool)
    yield url, shop
    database_pool.give_back(url)


@pytest.fixture(scope="module")
def module_db(database_pool):
    """``shared_db`` for the tests of one module that share a server (``module_servers``):
    they see each other's orders and sessions, so each compares with what it read first
    (a version, an activity id) rather than with an empty shop."""
    url, shop = seeded_database(database_pool)
    yield url, shop
    database_pool.give_back(url)


def _server_starter(workdir):
    running: list[GunicornServer] = []

    def start(database_url: str, workers: int = 1, **env) -> GunicornServer:
        server = GunicornServer(workdir, database_url, workers, **env).start()
        running.append(server)
        return server

    return start, running


@pytest.fixture
def servers(tmp_path):
    """``start(database_url, workers=1, **env)`` → a running server, stopped at teardown."""
    start, running = _server_starter(tmp_path)
    yield start
    for server in running:
        server.stop()


@pytest.fixture(scope="module")
def module_servers(tmp_path_factory):
    """``servers`` for a module whose tests share one server: a start costs a second or two
    on a loaded machine, and tests that neither restart it nor change its settings can
    share it."""
    start, running = _server_starter(tmp_path_factory.mktemp("servers"))
    yield start
    for server in running:
        server.stop()


def redis_env(tmp_path) -> dict:
    """Server env for the shared test Redis, on a channel of this test's (or module's) own:
    named by the pytest process too, since the other xdist worker's directories have the
    same names (a module's ``servers0``) and its servers use another database."""
    # A long version poll: delivery within the test's deadline can only come via Redis.
    return {
        "REDIS_URL": redis_url(),
        "REDIS_CHANNEL": f"orderpulse:test:{os.getpid()}:{tmp_path.name}",
        "HUB_VERSION_POLL_SECONDS": "60",
    }


class RedisProcess:
    """A throw-away ``redis-server`` on a free loopback port (no persistence), which a test
    may stop and start again on the same port. Never the machine's shared Redis."""

    def __init__(self, log_path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 10) -> "RedisProcess":
        cmd = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
        cmd += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, process_group=0
            )
        wait_until(self._accepting, timeout, f"redis-server on port {self.port}", every=0.02)
        return self

    def _accepting(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"redis-server exited: {self.log_path.read_text()[-2000:]}")
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        """SIGTERM (redis-server exits at once: no persistence), then SIGKILL."""
        if self.proc is not None and self.proc.returncode is None:
            kill_group(self.proc.pid, grace=5)
            self.proc.wait(10)


@pytest.fixture
def private_redis(tmp_path):
    """A running ``RedisProcess`` of this test's own, stopped at teardown. Skips when
    ``redis-server`` is not installed (fails under ``REQUIRE_SERVICES=1``)."""
    present = shutil.which(REDIS_SERVER) is not None
    require("redis-server", present, f"{REDIS_SERVER} not installed (apt install redis-server)")
    server = RedisProcess(tmp_path / "redis.log").start()
    yield server
    server.stop()

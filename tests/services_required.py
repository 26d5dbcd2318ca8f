"""Real PostgreSQL / Redis servers for tests: skip with a reason when absent, fail instead
when ``REQUIRE_SERVICES=1`` (CI)."""

import os

import pytest

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def require(name: str, reachable: bool, detail: str) -> None:
    """Skip (or fail under ``REQUIRE_SERVICES=1``) when ``name`` is not reachable."""
    if reachable:
        return
    message = f"{name} not reachable ({detail})"
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message}; REQUIRE_SERVICES=1 makes this a failure")
    pytest.skip(message)


def redis_url() -> str:
    """``TEST_REDIS_URL`` (default db 15 on 127.0.0.1) after checking the server answers."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        ok, detail = True, ""
    except redis.RedisError as exc:
        ok, detail = False, f"{REDIS_URL}: {exc}"
    require("Redis", ok, detail)
    return REDIS_URL


POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_admin_conninfo() -> str:
    # psycopg wants a libpq URL without SQLAlchemy's "+psycopg" driver suffix.
    return POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://", 1)


def create_postgres_database(name: str, template: str | None = None) -> str:
    """Create database ``name`` on the test server (dropping a leftover one), as a copy of
    database ``template`` when given; returns its SQLAlchemy URL. Skips (or fails under
    REQUIRE_SERVICES=1) when the server is absent."""
    import psycopg

    try:
        with psycopg.connect(_postgres_admin_conninfo(), autocommit=True, connect_timeout=2) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            copy = f' TEMPLATE "{template}"' if template else ""
            c.execute(f'CREATE DATABASE "{name}"{copy}')
            # A test database need not survive a crash: commits stop waiting for the disk.
            c.execute(f'ALTER DATABASE "{name}" SET synchronous_commit TO off')
    except psycopg.OperationalError as exc:
        require("PostgreSQL", False, f"{POSTGRES_ADMIN_URL}: {exc}")
    return database_url(name)


def database_url(name: str) -> str:
    """The SQLAlchemy URL of database ``name`` on the test server."""
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


def drop_postgres_database(name: str) -> None:
    """Drop database ``name`` (closing any connection still open to it)."""
    import psycopg

    with psycopg.connect(_postgres_admin_conninfo(), autocommit=True, connect_timeout=2) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def end_other_connections(url: str) -> None:
    """End every connection to the database of ``url`` but the caller's."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(_postgres_admin_conninfo(), autocommit=True, connect_timeout=2) as c:
        c.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )

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

"""Limits that hold across workers and hosts without Redis (the counters live in
PostgreSQL), and forwarded headers ignored from a client that reaches gunicorn directly."""

import pytest
import sqlalchemy as sa

from tests.servers import Session

pytestmark = pytest.mark.server

JSON = {"Accept": "application/json"}


def attempt(base: str, username: str, password: str = "wrong-pass", **headers) -> int:
    session = Session(base)  # a new connection each time: any worker may take it
    form = {"csrf_token": session.csrf, "username": username, "password": password}
    return session.request("POST", "/auth/login", form=form, headers=JSON | headers)[0]


@pytest.fixture(scope="module")
def limited_hosts(module_db, module_servers):
    """``(first, second, url)``: a two-worker host and a one-worker host with the login
    limits on, on one database; only the limits test logs in (as alice)."""
    url, _ = module_db
    limits = {"RATELIMIT_ENABLED": "1", "RATELIMIT_LOGIN": "10 per minute"}
    return module_servers(url, workers=2, **limits), module_servers(url, **limits), url


def test_login_limits_hold_across_two_workers_without_redis(limited_hosts):
    """Before, each worker counted in its own memory: 20 wrong passwords passed a limit of
    10 a minute on 2 workers."""
    first, second, url = limited_hosts
    statuses = [attempt((second if i % 3 == 2 else first).base, "alice") for i in range(20)]
    assert statuses.count(200) == 10, statuses
    assert statuses[10:] == [429] * 10
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        keys = conn.scalars(sa.text("SELECT key FROM rate_limit_counters")).all()
    engine.dispose()
    assert any("login" in key for key in keys), keys


def test_a_forged_forwarded_for_straight_to_gunicorn_is_ignored(limited_hosts):
    _, server, _ = limited_hosts
    stranger = Session(server.base, source="127.0.0.2")
    forged = {"X-Forwarded-For": "127.0.0.1"}
    assert stranger.request("GET", "/metrics", headers=forged)[0] == 403
    assert Session(server.base, source="127.0.0.1").request("GET", "/metrics")[0] == 200

"""Sessions end on every worker and host, on real gunicorn
servers sharing PostgreSQL: a logout, a password change or a demotion made on one worker,
host or process closes streams held by another, through the same backend as order events
(PostgreSQL ``LISTEN/NOTIFY``, or Redis). The periodic re-validation is slowed to a minute,
so what closes the streams here is the revoke message.

The tests share two servers per backend's module fixture and one database: each logs in
sessions of its own, the password change is alice's alone, and the demotion ends an admin
made for it."""

import json

import pytest

from tests.server_fixtures import redis_env
from tests.servers import Session, StreamReader, add_admin, demote_by_cli
from tests.test_servers import streams_on_every_worker

pytestmark = [pytest.mark.server, pytest.mark.services]
QUIET = {"SSE_REVALIDATE_SECONDS": "60", "HUB_VERSION_POLL_SECONDS": "60"}
DEADLINE = 10.0  # seconds: generous; the revoke reaches every worker in milliseconds


def revoked(frame) -> bool:
    return frame.get("event") == "revoked"


def backend_env(backend: str, tmp_path) -> dict:
    return {**QUIET, **(redis_env(tmp_path) if backend == "redis" else {})}


def stolen(session: Session) -> Session:
    """Another client holding a copy of ``session``'s cookie."""
    thief = Session(session.base)
    for cookie in session.jar:
        thief.jar.set_cookie(cookie)
    return thief


@pytest.fixture(scope="module")
def postgres_server(module_db, module_servers):
    """``(server, url, shop)``: two workers whose revokes travel by LISTEN/NOTIFY."""
    url, shop = module_db
    return module_servers(url, workers=2, SSE_MAX_STREAMS_PER_USER="100", **QUIET), url, shop


@pytest.fixture(scope="module")
def redis_hosts(module_db, module_servers, tmp_path_factory):
    """``(host_a, host_b, shop)``: two hosts on Redis, A with two workers."""
    url, shop = module_db
    env = backend_env("redis", tmp_path_factory.mktemp("redis_hosts"))
    host_a = module_servers(url, workers=2, SSE_MAX_STREAMS_PER_USER="100", **env)
    return host_a, module_servers(url, **env), shop


@pytest.mark.parametrize("backend", ["postgres", "redis"])
def test_logout_ends_the_sessions_streams_on_every_worker(request, backend):
    fixture = "postgres_server" if backend == "postgres" else "redis_hosts"
    server, _, shop = request.getfixturevalue(fixture)
    admin = Session(server.base, shop.admin.username, shop.password)
    other = Session(server.base, shop.admin.username, shop.password)  # another browser
    streams = streams_on_every_worker(server, admin, want=2)
    bystander = StreamReader(other)
    thief = stolen(admin)
    try:
        for stream in [*streams, bystander]:
            stream.wait_for(lambda f: f.get("id") is not None)
        assert thief.request("GET", "/admin/api/order-updates")[0] == 200
        admin.request("POST", "/auth/logout", form={"csrf_token": admin.csrf})
        assert admin.request("GET", "/admin/api/order-updates")[0] == 401
        for stream in streams:  # on both workers, whichever served the logout
            assert json.loads(stream.wait_for(revoked, DEADLINE)["data"])["reason"] == "logout"
        assert thief.request("GET", "/admin/api/order-updates")[0] == 401
        late = StreamReader(thief)
        assert late.response.status == 401
        late.close()
        assert not any(revoked(f) for f in bystander.next_frames(0.5) + bystander.frames)
    finally:
        for stream in [*streams, bystander]:
            stream.close()


def test_a_password_change_on_one_host_ends_streams_on_another(redis_hosts):
    host_a, host_b, shop = redis_hosts
    mine = Session(host_a.base, shop.alice.username, shop.password)
    lost_phone = Session(host_b.base, shop.alice.username, shop.password)
    order = lost_phone.place_order(shop.products[0].id)
    stream = StreamReader(lost_phone, f"/orders/{order['order_number']}/stream")
    try:
        stream.wait_for(lambda f: f.get("data") and '"initial"' in f["data"])
        form = {"csrf_token": mine.csrf, "current": shop.password}
        form |= {"password": "a-new-secret-9", "confirm": "a-new-secret-9"}
        status, page = mine.request("POST", "/account/password", form=form)
        assert status == 200 and "Password changed" in page  # after the redirect
        assert json.loads(stream.wait_for(revoked, DEADLINE)["data"])["reason"] == "password"
        assert lost_phone.request("GET", "/orders")[0] == 200  # the login page, anonymous
        assert "Log in" in lost_phone.request("GET", "/orders")[1]
        assert "My orders" in mine.request("GET", "/orders")[1]
    finally:
        stream.close()


def test_a_demotion_by_the_cli_ends_the_admins_dashboards(postgres_server):
    """Another process (``flask set-role``) on PostgreSQL without Redis: its revoke travels
    by NOTIFY, committed with the role change."""
    server, url, shop = postgres_server
    add_admin(url, "demoted")
    admin = Session(server.base, "demoted", shop.password)
    stream = StreamReader(admin)
    try:
        stream.wait_for(lambda f: f.get("id") is not None)
        demote_by_cli(url, "demoted")
        assert json.loads(stream.wait_for(revoked, DEADLINE)["data"])["reason"] == "role"
        assert admin.request("GET", "/admin/api/order-updates")[0] == 401
    finally:
        stream.close()

"""Presence across real gunicorn gevent workers (docs/design.md §5a): an admin's dashboard
on one worker and her dialog announced through any worker show on the dashboards of every
worker, through Redis and through PostgreSQL LISTEN/NOTIFY; closing her dashboard removes
her. The time it takes is measured in ``bench/presence_bench.py``, not asserted here."""

import pytest

from app import create_app
from app.extensions import db
from tests.factories import make_user
from tests.presence_helpers import has_admin, lacks_admin
from tests.server_fixtures import redis_env
from tests.servers import Session, StreamReader
from tests.test_servers import streams_on_every_worker

pytestmark = [pytest.mark.server, pytest.mark.services]
FAST = {"PRESENCE_LEAVE_GRACE_SECONDS": "0.5", "PRESENCE_RENEW_SECONDS": "0.5"}


def backend_env(kind: str, tmp_path) -> dict:
    if kind == "redis":
        return {**redis_env(tmp_path), "REALTIME_BACKEND": "redis"}
    return {"REALTIME_BACKEND": "postgres", "HUB_VERSION_POLL_SECONDS": "60"}


def fresh(stream: StreamReader) -> StreamReader:
    """Forget what was read: ``wait_for`` then looks at new frames only."""
    stream.frames.clear()
    return stream


@pytest.mark.parametrize("kind", ["redis", "postgres"])
def test_presence_reaches_the_dashboards_of_both_workers(shared_db, servers, tmp_path, kind):
    url, shop = shared_db
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        make_user("admin", credits=0, username="maria")
        db.engine.dispose()
    env = {**backend_env(kind, tmp_path), **FAST, "SSE_MAX_STREAMS_PER_USER": "100"}
    server = servers(url, workers=2, **env)
    boss = Session(server.base, shop.admin.username, shop.password)
    maria = Session(server.base, "maria", shop.password)
    order = Session(server.base, shop.alice.username, shop.password).place_order()
    watchers = streams_on_every_worker(server, boss, want=2)
    hers = StreamReader(maria)
    try:
        for watcher in watchers:
            watcher.wait_for(has_admin("maria", order_id=None), timeout=10)
        body = {"order_id": order["id"], "action": "cancelling"}
        for watcher in watchers:
            fresh(watcher)
        # Several times: the requests land on both workers, whichever holds her stream.
        for _ in range(4):
            status, text = maria.request("POST", "/admin/api/presence", json_body=body)
            assert status == 200, text
        for watcher in watchers:
            watcher.wait_for(has_admin("maria", order["id"], "cancelling"), timeout=10)
            fresh(watcher)
        hers.close()
        for watcher in watchers:
            watcher.wait_for(lacks_admin("maria"), timeout=10)
    finally:
        for stream in [*watchers, hers]:
            stream.close()

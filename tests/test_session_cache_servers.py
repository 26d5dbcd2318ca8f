"""The per-worker session cache on real gunicorn workers (``app/services/session_cache.py``):
a session that another worker has cached is refused there as soon as the revoke message of
its logout arrived, through Redis and through PostgreSQL ``LISTEN/NOTIFY``. The cache's TTL
and the streams' re-validation are set to minutes, so only the message can refuse it.

Each client below is pinned to one worker (``X-Worker-Pid``): it connects again until the
worker that answers is its own. What a test reads is the answer's status and headers; the
stream's body is never needed, so each client closes its connection at the headers (a
stream whose client left ends at once) and asks again at once.

One server per backend for the module (``cache_server``), on one database: each test ends
sessions or rights of its own (a logout, an admin made to be demoted)."""

import http.client

import pytest

from tests.helpers import wait_until
from tests.server_fixtures import redis_env
from tests.servers import USER_AGENT, Session, add_admin, demote_by_cli
from tests.test_sessions_servers import stolen

pytestmark = [pytest.mark.server, pytest.mark.services]
STREAM = "/admin/orders/stream"
DEADLINE = 15.0  # seconds: generous; a revoke reaches every worker in milliseconds
SLOW = {
    "SESSION_CACHE_SECONDS": "300",
    "SSE_REVALIDATE_SECONDS": "300",
    "HUB_VERSION_POLL_SECONDS": "60",
    "SSE_MAX_STREAMS_PER_USER": "100",
}


class PinnedClient:
    """A session's stream requests, always answered by one worker."""

    def __init__(self, server, session: Session):
        self.server = server
        self.conn = None
        self.headers = {"Cookie": session.cookie_header(), "User-Agent": USER_AGENT}
        self.pid = None

    def request(self):
        """The status and headers of a stream request answered by this client's worker (the
        first one answering sets it): each request connects again, until the worker that
        answers is this client's, for up to ``DEADLINE`` seconds (not a number of tries: on
        a loaded machine the other worker, idle, can take every connection for a second or
        more); the connection is closed at the headers."""

        def answered_here():
            conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=DEADLINE)
            try:
                conn.request("GET", STREAM, headers=self.headers)
                response = conn.getresponse()
            finally:
                conn.close()  # the stream ends when the server sees its client leave
            pid = int(response.getheader("X-Worker-Pid"))
            if self.pid in (None, pid):
                self.pid = pid
                return response
            return None

        return wait_until(answered_here, DEADLINE, f"a connection to worker {self.pid}", every=0)

    def cached(self) -> bool:
        """This worker opened the stream from its cache now."""
        response = self.request()
        assert response.status == 200, response.status
        return response.getheader("X-Session-Cache") == "hit"

    def cached_stream(self) -> None:
        """Ask until this worker opens the stream from its cache (the first ones read the
        database: the worker's backend starts listening with its first stream, and nothing
        is cached until it listens)."""
        wait_until(self.cached, DEADLINE, what=f"worker {self.pid} answering from its cache")


def refused(client: PinnedClient) -> bool:
    """The worker refuses the session now (401; else it still opens the stream, 200)."""
    status = client.request().status
    assert status in (200, 401), status
    return status == 401


def refused_within(client: PinnedClient, timeout: float = DEADLINE) -> bool:
    """Ask until the worker refuses the session (401), for up to ``timeout`` seconds. With
    a TTL of minutes, only the revoke message can make it refuse within the deadline."""
    return wait_until(
        lambda: refused(client), timeout, what=f"worker {client.pid} refusing the cookie"
    )


def pinned_to_every_worker(server, session: Session, want: int):
    """``want`` clients of ``session``, each pinned to another worker (connecting again for
    up to ``DEADLINE`` seconds until each worker has answered one)."""
    clients: dict[int, PinnedClient] = {}

    def every_worker_pinned():
        client = PinnedClient(server, session)
        assert client.request().status == 200
        clients.setdefault(client.pid, client)
        return len(clients) == want and list(clients.values())

    return wait_until(
        every_worker_pinned,
        DEADLINE,
        lambda: f"connections to reach {want} workers; they reached {len(clients)}",
        every=0,
    )


@pytest.fixture(scope="module")
def cache_servers(module_db, module_servers, tmp_path_factory):
    """``backend -> (server, url, shop)``, each server with two workers, started when a
    test first asks for its backend."""
    url, shop = module_db
    started = {}

    def server(backend: str):
        if backend not in started:
            env = dict(SLOW)
            if backend == "redis":
                env |= redis_env(tmp_path_factory.mktemp("cache"))
            started[backend] = module_servers(url, workers=2, **env), url, shop
        return started[backend]

    return server


@pytest.mark.parametrize("backend", ["postgres", "redis"])
def test_a_revoked_cookie_is_refused_by_every_workers_cache(cache_servers, backend):
    server, _, shop = cache_servers(backend)
    admin = Session(server.base, shop.admin.username, shop.password)
    thief = stolen(admin)
    clients = pinned_to_every_worker(server, thief, want=2)
    for client in clients:  # both workers' caches hold the session
        client.cached_stream()
    assert admin.request("POST", "/auth/logout", form={"csrf_token": admin.csrf})[0] == 200
    for client in clients:  # each asks its own worker, so both workers answer
        assert refused_within(client), f"worker {client.pid} still accepts the cookie"


def test_a_session_ended_by_the_cli_is_refused_by_the_workers_cache(cache_servers):
    """A demotion by another process (``flask set-role``) on PostgreSQL without Redis: its
    revoke travels by NOTIFY, committed with the role change, and empties the cache of the
    worker that cached the session."""
    server, url, shop = cache_servers("postgres")
    add_admin(url, "demoted")
    admin = Session(server.base, "demoted", shop.password)
    client = PinnedClient(server, admin)
    client.cached_stream()
    demote_by_cli(url, "demoted")
    assert refused_within(client), "the worker still accepts the demoted admin's cookie"

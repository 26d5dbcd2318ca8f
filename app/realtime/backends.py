"""How a commit reaches every worker's hub: in-process for one worker; Redis pub/sub or
PostgreSQL ``LISTEN/NOTIFY`` across workers, hosts and other processes (a CLI job, cron).
One listener per worker, never one per stream; after any reconnect the hub resyncs from
the database, so what was committed meanwhile still arrives as ``event: order`` frames.
"""

import contextlib
import json
import logging
import random
import threading
import time

from app.metrics import BACKEND_RECONNECTS

log = logging.getLogger(__name__)
RESYNC = [{"type": "resync"}]


class LocalBackend:
    """One process: publish wakes this process's hub directly. Commits of other processes
    (SQLite) are found by the hub's version poll."""

    name = "local"

    def __init__(self, hub):
        self.hub = hub

    def publish(self, changes: list[dict]) -> None:
        self.hub.on_message(changes)

    def notify_in_transaction(self, session, changes: list[dict]) -> None:
        """Nothing to do inside the transaction for this backend."""

    def ping(self) -> None:
        """Nothing to reach: always ready."""

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


class _Listener:
    """A daemon thread (a greenlet under gevent) that runs ``listen_once`` and, when it
    fails, reconnects with exponential backoff and jitter (0.5 s doubling to 15 s)."""

    name = "listener"

    def __init__(self, hub):
        self.hub = hub
        self._thread: threading.Thread | None = None
        self._stopping = False

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping = False
        self._thread = threading.Thread(
            target=self._run, name=f"{self.name}-subscriber", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stopping = True

    def _run(self) -> None:
        delay = 0.5
        while not self._stopping:
            try:
                for _ in self.listen_once():  # yields once subscribed, then per message
                    delay = 0.5
            except self.errors as exc:
                if self._stopping:
                    return
                BACKEND_RECONNECTS.labels(self.name).inc()
                log.warning("%s listener lost (%s); retrying in %.1fs", self.name, exc, delay)
                time.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, 15.0)

    def _received(self, payload) -> None:
        try:
            changes = json.loads(payload)
        except ValueError:
            log.warning("%s: ignoring a message that is not JSON", self.name)
            return
        if isinstance(changes, list):
            self.hub.on_message(changes)


class RedisBackend(_Listener):
    """Publish to a Redis channel; one subscriber per worker wakes the local hub. When Redis
    goes away, streams stay open (the hub still heartbeats) and a failed publish is logged;
    the version poll still finds the commit within ``HUB_VERSION_POLL_SECONDS``."""

    name = "redis"

    def __init__(self, hub, url: str, channel: str):
        import redis

        super().__init__(hub)
        self.channel = channel
        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        self.errors = (redis.RedisError, OSError)

    def ping(self) -> None:
        """Raise ``redis.RedisError`` when Redis does not answer (readiness check)."""
        self.client.ping()

    def publish(self, changes: list[dict]) -> None:
        self.client.publish(self.channel, json.dumps(changes, separators=(",", ":")))

    def notify_in_transaction(self, session, changes: list[dict]) -> None:
        """Redis hears of commits after them (``publish``)."""

    def listen_once(self):
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(self.channel)
            self.hub.on_message(RESYNC)  # commits may have happened while we were away
            yield
            while not self._stopping:
                message = pubsub.get_message(timeout=1.0)
                if message and message["type"] == "message":
                    self._received(message["data"])
                    yield
        finally:
            with contextlib.suppress(Exception):  # already broken; nothing to report
                pubsub.close()


class PostgresBackend(_Listener):
    """PostgreSQL ``LISTEN/NOTIFY`` (psycopg 3, cooperative under gevent): the outbox's
    ``pg_notify`` runs inside the committing transaction, so PostgreSQL delivers it exactly
    when, and only if, the transaction commits, to every listening worker on every host,
    from any process that writes orders (a CLI job included). Each worker keeps one
    autocommit connection that listens. This process's own hub is also woken directly after
    commit, which saves the round trip."""

    name = "postgres"

    def __init__(self, hub, sqlalchemy_url, channel: str):
        import psycopg

        super().__init__(hub)
        self.channel = channel
        # psycopg wants a libpq URL, without SQLAlchemy's "+psycopg" driver name.
        url = sqlalchemy_url.set(drivername="postgresql")
        self.conninfo = url.render_as_string(hide_password=False)
        self.errors = (psycopg.Error, OSError)

    def publish(self, changes: list[dict]) -> None:
        # A wake-up only: the NOTIFY of the same commit carries its publish time (the lag
        # metric counts each commit once).
        self.hub.on_message([{"type": c["type"]} if c["type"] == "orders" else c for c in changes])

    def notify_in_transaction(self, session, changes: list[dict]) -> None:
        """``pg_notify`` in ``session``'s transaction, one notification per change, so each
        stays far below PostgreSQL's 8,000-byte limit whatever the transaction did: a
        change is a version number or a revoke naming a user and a session
        (docs/design.md §5b), never a list of orders or sessions."""
        import sqlalchemy as sa

        for change in changes:
            payload = json.dumps([change], separators=(",", ":"))
            session.execute(sa.select(sa.func.pg_notify(self.channel, payload)))

    def ping(self) -> None:
        """The database itself is checked by the readiness probe."""

    def listen_once(self):
        import psycopg
        from psycopg import sql

        with psycopg.connect(
            self.conninfo, autocommit=True, connect_timeout=5, application_name="orderpulse-listen"
        ) as conn:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            self.hub.on_message(RESYNC)
            yield
            while not self._stopping:
                for notify in conn.notifies(timeout=1.0):
                    self._received(notify.payload)
                    yield

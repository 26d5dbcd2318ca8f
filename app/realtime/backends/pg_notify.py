"""PostgreSQL ``LISTEN/NOTIFY``: no Redis needed across workers and hosts."""

import threading

import sqlalchemy as sa

from app.realtime.backends.base import RESYNC, encode
from app.realtime.backends.listener import Listener


class PostgresBackend(Listener):
    """PostgreSQL ``LISTEN/NOTIFY`` (psycopg 3, cooperative under gevent): the outbox's
    ``pg_notify`` runs inside the committing transaction, so PostgreSQL delivers it exactly
    when, and only if, the transaction commits, to every listening worker on every host,
    from any process that writes orders (a CLI job included). Each worker keeps one
    autocommit connection that listens, and opens a second one for control messages
    (``send``) the first time it sends one. This process's own hub is also woken directly
    after a commit, which saves the round trip."""

    name = "postgres"

    def __init__(self, hub, sqlalchemy_url, channel: str):
        import psycopg

        super().__init__(hub)
        self.channel = channel
        # psycopg wants a libpq URL, without SQLAlchemy's "+psycopg" driver name.
        url = sqlalchemy_url.set(drivername="postgresql")
        self.conninfo = url.render_as_string(hide_password=False)
        self.errors = (psycopg.Error, OSError)
        self._sender = None
        self._send_lock = threading.Lock()

    def publish(self, changes: list[dict]) -> None:
        # A wake-up only: the NOTIFY of the same commit carries its publish time (the lag
        # metric counts each commit once).
        self.hub.on_message([{"type": c["type"]} if c["type"] == "orders" else c for c in changes])

    def notify_in_transaction(self, session, changes: list[dict]) -> None:
        """``pg_notify`` in ``session``'s transaction, one notification per change, so each
        stays far below PostgreSQL's 8,000-byte limit whatever the transaction did: a
        change is a version number or a revoke naming a user and a session
        (docs/design.md §5b), never a list of orders or sessions."""
        for change in changes:
            session.execute(sa.select(sa.func.pg_notify(self.channel, encode([change]))))

    def send(self, messages: list[dict]) -> None:
        """Every message as its own ``NOTIFY``, in one statement on this worker's sending
        connection (reconnected once if PostgreSQL dropped it)."""
        import psycopg

        payloads = [encode([message]) for message in messages]
        with self._send_lock:
            for attempt in (1, 2):
                try:
                    if self._sender is None or self._sender.closed:
                        self._sender = self._connect("orderpulse-send")
                    self._sender.execute(
                        "SELECT pg_notify(%s, p) FROM unnest(%s::text[]) AS p",
                        (self.channel, payloads),
                    )
                    return
                except (psycopg.OperationalError, psycopg.InterfaceError):
                    self._close_sender()
                    if attempt == 2:
                        raise

    def _connect(self, application_name: str):
        import psycopg

        return psycopg.connect(
            self.conninfo, autocommit=True, connect_timeout=5, application_name=application_name
        )

    def _close_sender(self) -> None:
        sender, self._sender = self._sender, None
        if sender is not None:
            sender.close()

    def stop(self) -> None:
        super().stop()
        with self._send_lock:
            self._close_sender()

    def ping(self) -> None:
        """The database itself is checked by the readiness probe."""

    def listen_once(self):
        from psycopg import sql

        with self._connect("orderpulse-listen") as conn:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            self.hub.on_message(RESYNC)
            yield
            while not self._stopping:
                for notify in conn.notifies(timeout=1.0):
                    self._received(notify.payload)
                    yield

"""How a commit or a control message reaches every worker's hub: in-process for one
worker; Redis pub/sub or PostgreSQL ``LISTEN/NOTIFY`` across workers, hosts and other
processes (a CLI job, cron). One listener per worker, never one per stream; after any
reconnect the hub resyncs from the database, so what was committed meanwhile still
arrives as ``event: order`` frames.

``Backend`` is the contract the three backends keep; ``tests/test_backend_conformance.py``
runs the same tests against each of them on the real servers.

Messages are lists of dicts with a ``type`` (see ``app.services.outbox`` and
``app.realtime.presence``):

- ``{"type": "orders", "version": int, "published_at": float}``: an order write committed;
- ``{"type": "revoke", "user_id": int, "session_id": str | None, "keep": str | None,
  "reason": str}``: sessions ended;
- ``{"type": "presence", "op": ..., ...}``: who has a dashboard or an order open;
- ``{"type": "resync"}``: from the backend itself after a (re)connect.

Each one has a constant size (it names a user, a session, an order, an action, never a
list: docs/design.md §5b), far below PostgreSQL's 8,000-byte ``NOTIFY`` payload limit.
"""

from app.realtime.backends.base import MAX_PAYLOAD_BYTES, RESYNC, Backend, encode
from app.realtime.backends.local import LocalBackend
from app.realtime.backends.pg_notify import PostgresBackend
from app.realtime.backends.redis_pubsub import RedisBackend

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "RESYNC",
    "Backend",
    "LocalBackend",
    "PostgresBackend",
    "RedisBackend",
    "encode",
]

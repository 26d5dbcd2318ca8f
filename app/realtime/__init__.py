"""Real-time engine: one hub per worker process fans one encoded SSE frame out to every
open stream (docs/design.md §1). ``init_app`` builds the hub with its backend and subscribes it
to what the services commit (``app.services.outbox``): the services never import this
package."""

import logging
import time
import weakref

from flask import Flask, current_app, has_app_context
from sqlalchemy.engine import make_url

from app import drain
from app.outages import REDIS
from app.realtime import shutdown
from app.realtime.backends import LocalBackend, PostgresBackend, RedisBackend
from app.realtime.hub import Hub
from app.services import outbox

BACKENDS = ("auto", "local", "redis", "postgres")


def init_app(app: Flask) -> None:
    """Attach ``app.extensions["realtime"]`` (the hub) with the backend ``REALTIME_BACKEND``
    names; ``auto`` picks Redis when ``REDIS_URL`` is set, PostgreSQL ``LISTEN/NOTIFY`` on a
    PostgreSQL database, else in-process (SQLite: commits of other processes are found by
    the version poll). Raises ``RuntimeError`` for an unknown backend name."""
    hub = Hub(app, lambda hub: _backend(app, hub))
    app.extensions["realtime"] = hub
    _HUBS.add(hub)
    # Process-wide and idempotent (blinker keeps one connection per receiver); each
    # receiver finds its app's hub, so every app of the process shares them.
    outbox.committing.connect(_notify_in_transaction)
    outbox.committed.connect(_publish_after_commit)


def _backend(app: Flask, hub: Hub):
    config = app.config
    name = config.get("REALTIME_BACKEND", "auto")
    if name not in BACKENDS:
        raise RuntimeError(f"REALTIME_BACKEND must be one of {BACKENDS}, not {name!r}")
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    if name == "auto":
        if config.get("REDIS_URL"):
            name = "redis"
        elif url.get_backend_name() == "postgresql":
            name = "postgres"
        else:
            name = "local"
    if name == "redis":
        return RedisBackend(hub, config["REDIS_URL"], config["REDIS_CHANNEL"])
    if name == "postgres":
        return PostgresBackend(hub, url, config["PG_NOTIFY_CHANNEL"])
    return LocalBackend(hub)


def _notify_in_transaction(session, changes: list[dict]) -> None:
    """PostgreSQL: ``pg_notify`` inside the transaction, delivered when it commits."""
    hub = current_app.extensions.get("realtime") if has_app_context() else None
    if hub is not None:
        stamped = [{**change, "published_at": time.time()} for change in changes]
        hub.backend.notify_in_transaction(session, stamped)


def _publish_after_commit(app, changes: list[dict]) -> None:
    hub = app.extensions.get("realtime")
    if hub is None:
        return
    try:
        hub.publish(changes)
    except Exception as exc:  # committed; streams catch up through the version poll
        if hub.backend.name != "redis":
            logging.getLogger(__name__).exception("publishing %d change(s) failed", len(changes))
        else:  # one line when Redis goes away and one when it is back, not one per commit
            REDIS.failed(exc, "publish")
    else:
        if hub.backend.name == "redis":
            REDIS.ok()


# Every hub in this process, so a worker that is shutting down can end its streams.
_HUBS: "weakref.WeakSet[Hub]" = weakref.WeakSet()


def close_all_streams(within: float | None = None, sleep=None) -> int:
    """End every open stream in this process with its ``retry:`` hint and refuse new ones
    (worker shutdown or recycle), so browsers reconnect to a live worker at once instead of
    waiting for the graceful timeout. The ends are spread over ``SSE_SHUTDOWN_SPREAD_SECONDS``
    (at most ``within`` seconds: the worker's graceful timeout must not cut them short),
    so their clients do not all come back in one instant (``app/realtime/shutdown.py``).
    Returns how many streams were told to close (``sleep``: between two slices of them)."""
    drain.start_draining()
    subs: list = []
    spread = 0.0
    for hub in list(_HUBS):
        hub.registry.draining = True  # from now on new streams get retry: and the end
        subs.extend(hub.registry.all())
        spread = max(spread, hub.config["SSE_SHUTDOWN_SPREAD_SECONDS"])
    if within is not None:
        spread = min(spread, within)
    shutdown.end_spread(subs, spread, sleep)
    return len(subs)


def open_stream_count() -> int:
    """Streams still open in this process (a worker waits for them before it exits)."""
    return sum(hub.stream_count for hub in list(_HUBS))


def get_hub() -> Hub:
    """The current app's hub."""
    return current_app.extensions["realtime"]

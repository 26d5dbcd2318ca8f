"""Real-time engine: one hub per worker process fans one encoded SSE frame out to every
open stream (DESIGN.md §1). ``init_app`` builds the hub and its publish backend."""

import weakref

from flask import Flask, current_app

from app.realtime.backends import LocalBackend, RedisBackend
from app.realtime.hub import Hub


def init_app(app: Flask) -> None:
    """Attach ``app.extensions["realtime"]`` (the hub) with the configured backend:
    Redis pub/sub when ``REDIS_URL`` is set, in-process otherwise."""
    hub = Hub(app)
    redis_url = app.config.get("REDIS_URL")
    hub.backend = (
        RedisBackend(hub, redis_url, app.config["REDIS_CHANNEL"])
        if redis_url
        else LocalBackend(hub)
    )
    app.extensions["realtime"] = hub
    _HUBS.add(hub)


# Every hub in this process, so a worker that is shutting down can end its streams.
_HUBS: "weakref.WeakSet[Hub]" = weakref.WeakSet()


def close_all_streams() -> int:
    """End every open stream in this process with its ``retry:`` hint and refuse new ones
    (worker shutdown or recycle), so browsers reconnect to a live worker at once instead of
    waiting for the graceful timeout. Returns how many streams were told to close."""
    closed = 0
    for hub in list(_HUBS):
        closed += hub.close_streams(drain=True)
    return closed


def get_hub() -> Hub:
    """The current app's hub."""
    return current_app.extensions["realtime"]

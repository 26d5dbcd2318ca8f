"""Real-time engine: one hub per worker process fans one encoded SSE frame out to every
open stream (DESIGN.md §1). ``init_app`` builds the hub and its publish backend."""

from flask import Flask, current_app

from app.realtime.backends import LocalBackend, RedisBackend
from app.realtime.hub import Hub


def init_app(app: Flask) -> None:
    """Attach ``app.extensions["realtime"]`` (the hub) with the configured backend:
    Redis pub/sub when ``REDIS_URL`` is set, in-process otherwise."""
    hub = Hub(app)
    redis_url = app.config.get("REDIS_URL")
    hub.backend = (
        RedisBackend(hub, redis_url, app.config["REDIS_CHANNEL"]) if redis_url else LocalBackend(hub)
    )
    app.extensions["realtime"] = hub


def get_hub() -> Hub:
    """The current app's hub."""
    return current_app.extensions["realtime"]

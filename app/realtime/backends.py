"""How "orders changed" reaches every hub: in-process for one worker, Redis pub/sub across
workers and hosts (one subscriber thread per worker, never one per stream)."""

import contextlib
import json
import logging
import random
import threading
import time

from app.metrics import REDIS_RECONNECTS

log = logging.getLogger(__name__)


class LocalBackend:
    """One process: publish wakes this process's hub directly."""

    def __init__(self, hub):
        self.hub = hub
        self.reconnects = 0

    def publish(self, events: list[dict]) -> None:
        self.hub.notify(events)

    def ping(self) -> None:
        """Nothing to reach: always ready."""

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


class RedisBackend:
    """Publish to a Redis channel; one subscriber thread per worker wakes the local hub.

    When Redis goes away, streams stay open (the hub still heartbeats), the subscriber
    reconnects with exponential backoff and jitter (0.5 s doubling to 15 s), and on every
    (re)subscribe it asks the hub to resync from the database, so counts end right with no
    client action. A failed publish is logged; the per-worker version check still finds the
    commit within ``HUB_VERSION_POLL_SECONDS``.
    """

    def __init__(self, hub, url: str, channel: str):
        import redis

        self.hub = hub
        self.channel = channel
        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.reconnects = 0

    def ping(self) -> None:
        """Raise ``redis.RedisError`` when Redis does not answer (readiness check)."""
        self.client.ping()

    def publish(self, events: list[dict]) -> None:
        self.client.publish(self.channel, json.dumps(events, separators=(",", ":")))

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._listen, name="redis-subscriber", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping = True

    def _listen(self) -> None:
        import redis

        delay = 0.5
        while not self._stopping:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self.channel)
                self.hub.notify([])  # resync: commits may have happened while we were away
                delay = 0.5
                while not self._stopping:
                    message = pubsub.get_message(timeout=1.0)
                    if message and message["type"] == "message":
                        self.hub.notify(json.loads(message["data"]))
            except (redis.RedisError, OSError, ValueError) as exc:
                self.reconnects += 1
                REDIS_RECONNECTS.inc()
                log.warning("redis subscriber lost (%s); retrying in %.1fs", exc, delay)
                time.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, 15.0)
            finally:
                with contextlib.suppress(Exception):  # already broken; nothing to report
                    pubsub.close()

"""Redis pub/sub: one channel, one subscriber per worker (``REDIS_URL``)."""

import contextlib
import os
import secrets

from app.realtime.backends.base import RESYNC, encode
from app.realtime.backends.listener import Listener


class RedisBackend(Listener):
    """Publish to a Redis channel; one subscriber per worker wakes the local hub. When Redis
    goes away, streams stay open (the hub still heartbeats) and a failed publish is logged;
    the version poll still finds the commit within ``HUB_VERSION_POLL_SECONDS``."""

    name = "redis"

    def __init__(self, hub, url: str, channel: str):
        import redis

        super().__init__(hub)
        self.channel = channel
        # Named, so that an operator (or a test) can tell this worker's connections apart
        # in CLIENT LIST.
        self.client_name = f"orderpulse-{os.getpid()}-{secrets.token_hex(3)}"
        self.client = redis.Redis.from_url(
            url, socket_timeout=5, socket_connect_timeout=2, client_name=self.client_name
        )
        self.errors = (redis.RedisError, OSError)

    def ping(self) -> None:
        """Raise ``redis.RedisError`` when Redis does not answer (readiness check)."""
        self.client.ping()

    def publish(self, changes: list[dict]) -> None:
        self.client.publish(self.channel, encode(changes))

    def notify_in_transaction(self, session, changes: list[dict]) -> None:
        """Redis hears of commits after them (``publish``)."""

    def send(self, messages: list[dict]) -> None:
        """One ``PUBLISH`` per message, in one round trip (a pipeline, no transaction)."""
        payloads = [encode([message]) for message in messages]
        if len(payloads) == 1:
            self.client.publish(self.channel, payloads[0])
            return
        pipe = self.client.pipeline(transaction=False)
        for payload in payloads:
            pipe.publish(self.channel, payload)
        pipe.execute()

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

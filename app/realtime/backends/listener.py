"""The listening half shared by the Redis and PostgreSQL backends: one daemon thread (a
greenlet under gevent) per worker that reconnects with backoff."""

import json
import logging
import random
import threading
import time

from app.metrics import BACKEND_RECONNECTS
from app.outages import DATABASE, REDIS

log = logging.getLogger(__name__)


class Listener:
    """Runs the subclass's ``listen_once`` (a generator that yields once subscribed, then
    per message) and, when it fails with one of ``errors``, reconnects with exponential
    backoff and jitter (0.5 s doubling to 15 s). Reconnects are counted in
    ``orderpulse_backend_reconnects_total{backend=name}``."""

    name = "listener"
    errors: tuple = (OSError,)

    def __init__(self, hub):
        self.hub = hub
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._listening = False

    def is_listening(self) -> bool:
        """Subscribed now (set by ``listen_once``, cleared when the connection is lost)."""
        return self._listening

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
        self._listening = False

    def listen_once(self):
        raise NotImplementedError

    def _run(self) -> None:
        delay = 0.5
        outage = DATABASE if self.name == "postgres" else REDIS
        while not self._stopping:
            try:
                for _ in self.listen_once():
                    self._listening = True
                    delay = 0.5
                    outage.ok()
            except self.errors as exc:
                self._listening = False
                if self._stopping:
                    return
                BACKEND_RECONNECTS.labels(self.name).inc()
                # One line per outage ("redis unreachable (redis listener lost, ...)") and one
                # at its end, not one per retry.
                outage.failed(exc, f"{self.name} listener lost, reconnecting")
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

"""Who is streaming in this worker: admin and single-order subscriptions, the per-user cap,
and closing everything when the worker drains."""

import random
import threading
import time

from app.metrics import OPEN_STREAMS
from app.realtime.subscription import Subscription
from app.services import ServiceError


class TooManyStreams(ServiceError):
    """The user has too many open streams in this worker (HTTP 429)."""

    status_code = 429


class Draining(ServiceError):
    """This worker is shutting down and takes no new streams (HTTP 503): the client's retry
    lands on a live worker (gunicorn closes the connection after this answer)."""

    status_code = 503


class StreamRegistry:
    """The open subscriptions of one worker; ``Hub`` adds the loop that feeds them.

    Config keys: ``SSE_MAX_STREAMS_PER_USER``, ``SSE_EVENT_QUEUE_SIZE``,
    ``SSE_LIFETIME_SECONDS`` and ``SSE_LIFETIME_JITTER_SECONDS`` (seconds).
    """

    def __init__(self, config):
        self.config = config
        self._lock = threading.Lock()
        self._admins: set[Subscription] = set()
        self._orders: dict[int, set[Subscription]] = {}
        self._per_user: dict[int, int] = {}  # open streams per user id
        self.draining = False  # set when the worker shuts down: no new streams

    @property
    def stream_count(self) -> int:
        """Open streams in this process (admin + single-order)."""
        return len(self._admins) + sum(len(s) for s in self._orders.values())

    def _deadline(self) -> float:
        jitter = self.config["SSE_LIFETIME_JITTER_SECONDS"]
        lifetime = self.config["SSE_LIFETIME_SECONDS"] + random.uniform(-jitter, jitter)
        return time.monotonic() + max(lifetime, 0.05)

    def _new_subscription(self, user_id: int | None, order_id: int | None = None):
        """A registered-to-nobody subscription, after the per-user cap check.

        Raises ``TooManyStreams`` (429) when ``user_id`` already has
        ``SSE_MAX_STREAMS_PER_USER`` open streams in this worker.
        """
        if self.draining:
            raise Draining("This server is restarting: reconnect in a moment")
        limit = self.config["SSE_MAX_STREAMS_PER_USER"]
        with self._lock:
            if user_id is not None and self._per_user.get(user_id, 0) >= limit:
                raise TooManyStreams(
                    f"Too many open live streams for this account (limit {limit}); "
                    "close another tab or share one stream between tabs"
                )
            if user_id is not None:
                self._per_user[user_id] = self._per_user.get(user_id, 0) + 1
        sub = Subscription(self.config["SSE_EVENT_QUEUE_SIZE"], self._deadline(), order_id)
        sub.user_id = user_id
        OPEN_STREAMS.inc()
        return sub

    def _register_admin(self, sub: Subscription) -> None:
        with self._lock:
            self._admins.add(sub)

    def _register_order(self, sub: Subscription) -> None:
        with self._lock:
            self._orders.setdefault(sub.order_id, set()).add(sub)

    def _watchers(self, order_id: int) -> list[Subscription]:
        with self._lock:
            return list(self._orders.get(order_id, ()))

    def unsubscribe(self, sub: Subscription) -> None:
        """Forget a stream (its generator closed)."""
        with self._lock:
            if sub.released:
                return
            sub.released = True
            OPEN_STREAMS.dec()
            if sub.user_id is not None:
                left = self._per_user.get(sub.user_id, 1) - 1
                if left > 0:
                    self._per_user[sub.user_id] = left
                else:
                    self._per_user.pop(sub.user_id, None)
            self._admins.discard(sub)
            watchers = self._orders.get(sub.order_id)
            if watchers is not None:
                watchers.discard(sub)
                if not watchers:
                    del self._orders[sub.order_id]

    def close_streams(self, drain: bool = False) -> int:
        """Close every open stream now; returns how many. ``drain`` also refuses new ones
        (503) from now on: a browser's keep-alive connection to this dying worker must not
        bring its stream straight back here."""
        self.draining = self.draining or drain
        subs = self._all_subs()
        for sub in subs:
            sub.close()
        return len(subs)

    def _all_subs(self) -> list[Subscription]:
        with self._lock:
            subs = list(self._admins)
            for watchers in self._orders.values():
                subs.extend(watchers)
        return subs

"""Who is streaming in this worker: admin and single-order subscriptions, streams still
waiting for their first frame, the per-user cap, and refusing new streams while draining."""

import random
import threading
import time

from app import drain
from app.metrics import OPEN_STREAMS
from app.realtime.subscription import CATALOGUE, Subscription
from app.services import ServiceError


class TooManyStreams(ServiceError):
    """The user has too many open streams in this worker (HTTP 429)."""

    status_code = 429


class Draining(ServiceError):
    """This worker is shutting down and takes no new streams. The stream views answer it
    with ``retry:`` (``app/web/sse_response.py``, docs/design.md §5b), never with an error
    status; 503 only if it ever reached the generic handler."""

    status_code = 503


class StreamRegistry:
    """The open subscriptions of one worker. A new stream is *pending* until the hub has
    sent its first frame (built once for every stream that asked for the same version);
    only then does it receive broadcasts, so nothing reaches it out of order.

    Config keys: ``SSE_MAX_STREAMS_PER_USER``, ``SSE_EVENT_QUEUE_SIZE``,
    ``SSE_LIFETIME_SECONDS`` and ``SSE_LIFETIME_JITTER_SECONDS`` (seconds).
    """

    def __init__(self, config):
        self.config = config
        self._lock = threading.Lock()
        self._admins: set[Subscription] = set()
        self._orders: dict[int, set[Subscription]] = {}
        self._pending: set[Subscription] = set()
        self._per_user: dict[int, int] = {}  # open streams per user id
        # Active single-order streams by the user who opened them: a tick's new balance
        # reaches that user's pages without a look at anyone else's (tracking.py).
        self._viewers: dict[int, list[Subscription]] = {}
        self._count = 0  # every stream from open() to remove(): read once a loop turn
        # Dashboard streams per session, for presence: (user id, session id) → [name, count]
        self._sessions: dict[tuple, list] = {}
        self.sessions_version = 0  # rises whenever a session's first or last one changes
        self.draining = False  # set when the worker shuts down: no new streams

    @property
    def count(self) -> int:
        """Open streams in this process (admin + single-order, pending included)."""
        return self._count

    def open(
        self, user_id=None, session_id=None, order_id=None, since=None, username=""
    ) -> Subscription:
        """A new pending subscription, after the draining and per-user checks.

        Raises ``Draining`` while the worker shuts down and ``TooManyStreams`` (429)
        when ``user_id`` already has ``SSE_MAX_STREAMS_PER_USER`` open streams here.
        """
        if self.draining or drain.draining():
            raise Draining("This server is restarting: reconnect in a moment")
        limit = self.config["SSE_MAX_STREAMS_PER_USER"]
        sub = Subscription(
            self.config["SSE_EVENT_QUEUE_SIZE"],
            self._deadline(),
            order_id=order_id,
            user_id=user_id,
            session_id=session_id,
            since=since,
        )
        with self._lock:
            if user_id is not None:
                if self._per_user.get(user_id, 0) >= limit:
                    raise TooManyStreams(
                        f"Too many open live streams for this account (limit {limit}); "
                        "close another tab or share one stream between tabs"
                    )
                self._per_user[user_id] = self._per_user.get(user_id, 0) + 1
            if order_id is None and user_id is not None:
                held = self._sessions.setdefault((user_id, session_id), [username, 0])
                held[1] += 1
                self.sessions_version += held[1] == 1
            self._pending.add(sub)
            self._count += 1
        OPEN_STREAMS.inc()
        return sub

    def _deadline(self) -> float:
        jitter = self.config["SSE_LIFETIME_JITTER_SECONDS"]
        lifetime = self.config["SSE_LIFETIME_SECONDS"] + random.uniform(-jitter, jitter)
        return time.monotonic() + max(lifetime, 0.05)

    def has_pending(self) -> bool:
        return bool(self._pending)

    def pending(self) -> list[Subscription]:
        """The streams waiting for their first frame (the hub activates each after it)."""
        with self._lock:
            return list(self._pending)

    def activate(self, sub: Subscription) -> None:
        """From now on ``sub`` receives broadcasts (its first frame is queued)."""
        with self._lock:
            if sub.released or sub not in self._pending:
                return
            self._pending.discard(sub)
            if sub.order_id is None:
                self._admins.add(sub)
            else:
                self._orders.setdefault(sub.order_id, set()).add(sub)
                if sub.order_id != CATALOGUE and sub.user_id is not None:
                    self._viewers.setdefault(sub.user_id, []).append(sub)

    def admin_sessions(self, seen_version: int) -> tuple[int, dict] | None:
        """``(sessions_version, {(user id, session id): username})`` of the open dashboard
        streams, or ``None`` while ``sessions_version`` is still ``seen_version``."""
        with self._lock:
            if seen_version == self.sessions_version:
                return None
            return self.sessions_version, {key: held[0] for key, held in self._sessions.items()}

    def admins(self) -> list[Subscription]:
        with self._lock:
            return list(self._admins)

    def watchers(self, order_id: int) -> list[Subscription]:
        with self._lock:
            return list(self._orders.get(order_id, ()))

    def watched_orders(self) -> set[int]:
        with self._lock:
            return set(self._orders)

    def order_streams_of(self, user_id: int) -> list[Subscription]:
        """The active single-order streams that ``user_id`` opened (storefronts not)."""
        with self._lock:
            return list(self._viewers.get(user_id, ()))

    def all(self) -> list[Subscription]:
        """Every open stream, pending ones included."""
        with self._lock:
            subs = list(self._admins) + list(self._pending)
            for watchers in self._orders.values():
                subs.extend(watchers)
        return subs

    def remove(self, sub: Subscription) -> None:
        """Forget a stream (its response closed); gives its slot back. Idempotent."""
        with self._lock:
            if sub.released:
                return
            sub.released = True
            if sub.user_id is not None:
                left = self._per_user.get(sub.user_id, 1) - 1
                if left > 0:
                    self._per_user[sub.user_id] = left
                else:
                    self._per_user.pop(sub.user_id, None)
            held = self._sessions.get((sub.user_id, sub.session_id))
            if sub.order_id is None and held is not None:
                held[1] -= 1
                if not held[1]:
                    del self._sessions[(sub.user_id, sub.session_id)]
                    self.sessions_version += 1
            self._admins.discard(sub)
            self._pending.discard(sub)
            watchers = self._orders.get(sub.order_id)
            if watchers is not None:
                watchers.discard(sub)
                if not watchers:
                    del self._orders[sub.order_id]
            viewed = self._viewers.get(sub.user_id)
            if viewed is not None and sub in viewed:
                viewed.remove(sub)
                if not viewed:
                    del self._viewers[sub.user_id]
            self._count -= 1
        OPEN_STREAMS.dec()

    def close_all(self, drain: bool = False) -> int:
        """Ask every open stream to end now; returns how many. ``drain`` also turns new
        ones away (``retry:``) from now on: a browser's keep-alive connection to this dying
        worker must not bring its stream straight back here."""
        self.draining = self.draining or drain
        subs = self.all()
        for sub in subs:
            sub.close()
        return len(subs)

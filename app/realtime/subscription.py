"""One open stream's mailbox: bounded, so a slow client never grows server memory.

Two ways out to the socket:

- **queued** (any WSGI server, tests): the stream's generator takes frames and the server
  writes them;
- **direct** (gunicorn's gevent worker, HTTP/1.1): the hub writes each tick's chunk straight
  to the socket (``app/realtime/direct.py``); frames queue only behind a backlog.

No frame is ever dropped to make room (docs/design.md §5b: ended, never thinned). A stream
whose queue would overflow takes nothing more and ends after what it already has, so the
last ``id:`` its client saw is a version whose changes all reached it: its reconnect resumes
exactly from there (``Last-Event-ID``). A client that leaves a chunk unsent past the write
timeout is cut with a reset (``direct.abort``), never left open: no later write can follow
half a chunk, and no terminating chunk can make a cut-off response look complete.
"""

import contextlib
import sys
import threading

from app.metrics import STREAM_OVERFLOWS
from app.realtime.direct import DirectWrites, abort

__all__ = ["CATALOGUE", "Subscription", "abort"]

_NO_LOCK = contextlib.nullcontext()
# The ``order_id`` of a storefront's stock stream: no order has id 0, so the registry keeps
# storefronts beside the streams of single orders without a kind of their own.
CATALOGUE = 0


def _new_lock():
    """A real lock with OS threads (dev server, tests); none under gevent's monkey-patching,
    where the hub and the streams share one thread and switch only where they block, never
    inside the short critical sections here."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("threading"):
        return _NO_LOCK
    return threading.Lock()


class Subscription(DirectWrites):
    """Frames waiting for one stream.

    Order events queue up to ``queue_size``; a stream that would need more is *overflowed*:
    it takes no more frames and ends after what it has (see the module docstring), never
    dropping one. The snapshot slot holds only the newest snapshot, replacing an unsent
    older one (it repeats the whole state, and follows every event queued before it).
    ``order_id`` is set for a customer's single-order stream.

    Who it belongs to (``user_id``, ``session_id``) lets the hub end it when that session
    ends; ``since`` is the version the client already has (``Last-Event-ID``, ``None`` for
    a fresh page, ``RESET`` for an id that is no version), read by the hub when it sends the
    stream's first frame.
    """

    RESET = "reset"

    # Memory per stream matters at 10,000 streams: slots, and the queue and the wake-up
    # event exist only once used (a handed-over stream never needs the event).
    __slots__ = (
        "_events",
        "_queue_size",
        "_snapshot",
        "_presence",
        "_lock",
        "_wake",
        "closed",
        "deadline",
        "order_id",
        "last",
        "user_id",
        "session_id",
        "since",
        "released",
        "overflowed",
    )

    def __init__(
        self,
        queue_size: int,
        deadline: float,
        order_id: int | None = None,
        user_id: int | None = None,
        session_id: str | None = None,
        since=None,
    ):
        self._events: list[bytes] | None = None
        self._queue_size = queue_size
        self._snapshot: bytes | None = None
        self._presence: bytes | None = None
        self._lock = _new_lock()
        self._wake: threading.Event | None = None
        self.closed = False
        self.deadline = deadline
        self.order_id = order_id
        self.last = None  # last state sent on a single-order stream, to skip repeats
        self.user_id = user_id  # for the per-user stream cap and for ending sessions
        self.session_id = session_id
        self.since = since
        self.released = False  # the per-user count was given back
        self.overflowed = False  # fell behind its queue: ended so that its client resumes
        self._init_direct()

    def offer(
        self,
        events: list[bytes] = (),
        snapshot: bytes | None = None,
        chunk: bytes | None = None,
        presence: bytes | None = None,
    ) -> None:
        """Deliver frames (called by the hub). ``chunk`` is ``events + presence + snapshot``
        framed as one HTTP/1.1 chunk, for streams in direct mode. ``presence``, like
        ``snapshot``, is a whole state: queued, it replaces an unsent older one (so it never
        pushes order events out of the bounded queue). A closed stream takes nothing more:
        what it had is its last word (a ``retry:``, or why its session ended)."""
        if self.closed or (chunk is not None and self._send_direct(chunk)):
            return
        with self._lock:
            if events:
                queued = self._events
                if queued is None:
                    queued = self._events = []
                # An empty queue takes a whole tick, however large (a bulk action's
                # hundreds of events are shared bytes: a reference each).
                if queued and len(queued) + len(events) > self._queue_size:
                    self._overflow()
                    return
                queued.extend(events)
            if presence is not None:
                self._presence = presence
            if snapshot is not None:
                self._snapshot = snapshot
        self._notify()

    def _notify(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _overflow(self) -> None:
        """Too far behind: take nothing more (this tick's snapshot neither, whose ``id:``
        would pass the events left out) and end after what is queued; the client resumes
        from the last version it got whole. Called with the lock held; a direct stream
        has a backlog (nothing queues otherwise), after which it ends."""
        self.overflowed = True
        self.closed = True
        STREAM_OVERFLOWS.inc()
        self._notify()

    def offer_first(self, frame: bytes) -> None:
        """Put the stream's initial frame ahead of anything the hub queued meanwhile."""
        with self._lock:
            if self._events is None:
                self._events = []
            self._events.insert(0, frame)
        self._notify()

    def close(self) -> None:
        """Ask the stream to end after what is queued (handed over: written now, or once
        its backlog is out)."""
        if self.closed and not self.handed_over:
            return
        self.closed = True
        if self.handed_over:
            self._finish()
        else:
            self._notify()

    def ready_frames(self) -> bytes:
        """What is queued now, joined (``b""``: nothing), without waiting."""
        return self._drain()

    def take(self, timeout: float | None = None) -> bytes | None:
        """Block until frames are queued; return them joined, ``b""`` on timeout, ``None``
        once closed and drained."""
        if self._wake is None:
            # Made before looking at the queue: whatever is offered from now on wakes it.
            self._wake = threading.Event()
        if not self.closed and not self._queued():
            self._wake.wait(timeout)
        self._wake.clear()
        parts = self._drain()
        if parts:
            return parts
        return None if self.closed else b""

    def run_direct(self, sock, write_timeout: float) -> None:  # see DirectWrites
        if self._wake is None:
            self._wake = threading.Event()
        super().run_direct(sock, write_timeout)

    def _queued(self) -> bool:
        return bool(self._events) or self._presence is not None or self._snapshot is not None

    def _drain(self) -> bytes:
        with self._lock:
            parts = list(self._events or ())
            self._events = None
            if self._presence is not None:
                parts.append(self._presence)
                self._presence = None
            if self._snapshot is not None:
                parts.append(self._snapshot)
                self._snapshot = None
        return b"".join(parts)

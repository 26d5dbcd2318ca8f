"""One open stream's mailbox: bounded, so a slow client never grows server memory."""

import threading
from collections import deque


class Subscription:
    """Frames waiting for one stream.

    Order events queue up to ``queue_size`` (the oldest drop first: the snapshot that follows
    still makes the counts right); the snapshot slot holds only the newest snapshot, replacing
    an unsent older one. ``order_id`` is set for a customer's single-order stream.
    """

    __slots__ = ("_events", "_snapshot", "_lock", "_wake", "closed", "deadline", "order_id", "last")

    def __init__(self, queue_size: int, deadline: float, order_id: int | None = None):
        self._events: deque[bytes] = deque(maxlen=queue_size)
        self._snapshot: bytes | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self.closed = False
        self.deadline = deadline
        self.order_id = order_id
        self.last = None  # last state sent on a single-order stream, to skip repeats

    def offer(self, events: list[bytes] = (), snapshot: bytes | None = None) -> None:
        """Queue frames and wake the stream (called by the hub)."""
        with self._lock:
            self._events.extend(events)
            if snapshot is not None:
                self._snapshot = snapshot
        self._wake.set()

    def close(self) -> None:
        """Ask the stream to end after what is queued."""
        self.closed = True
        self._wake.set()

    def take(self, timeout: float | None = None) -> bytes | None:
        """Block until frames are queued; return them joined, ``b""`` on timeout, ``None``
        once closed and drained."""
        self._wake.wait(timeout)
        self._wake.clear()
        with self._lock:
            parts = list(self._events)
            self._events.clear()
            if self._snapshot is not None:
                parts.append(self._snapshot)
                self._snapshot = None
        if parts:
            return b"".join(parts)
        return None if self.closed else b""

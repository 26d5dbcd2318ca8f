"""One open stream's mailbox: bounded, so a slow client never grows server memory.

Two ways out to the socket:

- **queued** (any WSGI server, tests): the stream's generator takes frames and the server
  writes them;
- **direct** (gunicorn's gevent worker, HTTP/1.1): after the first frame went out through
  gunicorn (so the status line, headers and chunked encoding are set up), the hub writes
  each tick's frames, already framed as one HTTP/1.1 chunk and encoded once for every stream,
  straight to the socket with a non-blocking ``send``. A stream costs one system call per
  tick instead of a greenlet switch plus gunicorn's write path. If the socket cannot take the
  whole chunk (a slow client), the rest becomes a backlog that the stream's own greenlet
  sends while newer frames queue as usual, so nothing is interleaved or lost.

No frame is ever dropped to make room (docs/design.md §5b: ended, never thinned). A stream
whose queue would overflow takes nothing more and ends after what it already has, so the
last ``id:`` its client saw is a version whose changes all reached it: its reconnect resumes
exactly from there (``Last-Event-ID``). A client that leaves a chunk unsent past the write
timeout is cut with a reset (``abort``), never left open: no later write can follow half a
chunk, and no terminating chunk can make a cut-off response look complete.
"""

import contextlib
import socket
import struct
import sys
import threading

from app.metrics import DIRECT_STREAMS, STREAM_DROPS, STREAM_OVERFLOWS
from app.realtime import sse

_NO_LOCK = contextlib.nullcontext()
# The ``order_id`` of a storefront's stock stream: no order has id 0, so the registry keeps
# storefronts beside the streams of single orders without a kind of their own.
CATALOGUE = 0
# SO_LINGER on, zero seconds: close() sends a TCP reset and discards what is unsent.
_RESET_ON_CLOSE = struct.pack("ii", 1, 0)


def abort(sock) -> None:
    """Cut a connection whose client stopped reading mid-chunk: shut both ways now (every
    later write on it fails, so the server cannot append the terminating chunk after half a
    chunk, and the connection is never reused) and make its close a reset, which discards
    the unsent rest instead of trickling it out (RFC 9293 §3.10.7.1: ABORT)."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _new_lock():
    """A real lock with OS threads (dev server, tests); none under gevent's monkey-patching,
    where the hub and the streams share one thread and switch only where they block, never
    inside the short critical sections here."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("threading"):
        return _NO_LOCK
    return threading.Lock()


class Subscription:
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

    __slots__ = (
        "_events",
        "_queue_size",
        "_snapshot",
        "_presence",
        "_lock",
        "_wake",
        "closed",
        "direct_bytes",
        "deadline",
        "order_id",
        "last",
        "_raw",
        "_backlog",
        "dead",
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
        # Memory per stream matters at 10,000 streams: the queue exists only once used.
        self._events: list[bytes] | None = None
        self._queue_size = queue_size
        self._snapshot: bytes | None = None
        self._presence: bytes | None = None
        self._lock = _new_lock()
        self._wake = threading.Event()
        self.closed = False
        self.deadline = deadline
        self.order_id = order_id
        self.last = None  # last state sent on a single-order stream, to skip repeats
        self._raw = None  # in direct mode, the client's socket for the hub's non-blocking send
        self._backlog: bytes | None = None  # unsent tail of a direct chunk
        self.dead = False  # the client went away (a direct write failed)
        self.user_id = user_id  # for the per-user stream cap and for ending sessions
        self.session_id = session_id
        self.since = since
        self.released = False  # the per-user count was given back
        self.direct_bytes = 0  # bytes the hub and run_direct wrote to the socket (access log)
        self.overflowed = False  # fell behind its queue: ended so that its client resumes

    @property
    def direct(self) -> bool:
        """The hub writes to this stream's socket itself (see the module docstring)."""
        return self._raw is not None

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
        if self.closed:
            return
        raw = self._raw
        if raw is not None and self._backlog is None and chunk is not None:
            try:
                # gevent keeps the real socket non-blocking: this never waits, and skips
                # gevent's wrapper, which costs more than the system call at 10,000 streams.
                sent = raw.send(chunk)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self.dead = True
                self._raw = None
                self._wake.set()
                return
            self.direct_bytes += sent
            if sent == len(chunk):
                return
            self._backlog = chunk[sent:]
            self._wake.set()
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
        self._wake.set()

    def _overflow(self) -> None:
        """Too far behind: take nothing more (this tick's snapshot neither, whose ``id:``
        would pass the events left out) and end after what is queued; the client resumes
        from the last version it got whole. Called with the lock held."""
        self.overflowed = True
        self.closed = True
        STREAM_OVERFLOWS.inc()
        self._wake.set()

    def offer_first(self, frame: bytes) -> None:
        """Put the stream's initial frame ahead of anything the hub queued meanwhile."""
        with self._lock:
            if self._events is None:
                self._events = []
            self._events.insert(0, frame)
        self._wake.set()

    def close(self) -> None:
        """Ask the stream to end after what is queued."""
        self.closed = True
        self._wake.set()

    def take(self, timeout: float | None = None) -> bytes | None:
        """Block until frames are queued; return them joined, ``b""`` on timeout, ``None``
        once closed and drained."""
        if not self.closed:
            self._wake.wait(timeout)
        self._wake.clear()
        parts = self._drain()
        if parts:
            return parts
        return None if self.closed else b""

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

    def run_direct(self, sock, write_timeout: float) -> None:
        """Direct mode until closed (gevent only): the hub writes, this greenlet only sends
        backlogs. Returns when the stream should end; a client that leaves a backlog unsent
        for ``write_timeout`` seconds, or whose socket errors, is dropped (``dead``)."""
        import gevent

        self._raw = getattr(sock, "_sock", None)  # None: offer() queues for this greenlet
        # EventSource never sends after its request, so the socket turning readable means
        # the client went away: notice it now, not at the next heartbeat.
        watcher = gevent.get_hub().loop.io(sock.fileno(), 1)
        watcher.start(self._readable, getattr(sock, "_sock", sock))
        DIRECT_STREAMS.inc()
        try:
            self._direct_loop(sock, write_timeout)
        finally:
            DIRECT_STREAMS.dec()
            watcher.stop()
            watcher.close()
            self._raw = None

    def _readable(self, raw) -> None:
        # Runs in gevent's hub: it must never block, hence MSG_DONTWAIT on the real socket.
        try:
            # Anything a client sends on a stream is discarded (and an EOF means it left).
            gone = raw.recv(4096, socket.MSG_DONTWAIT) == b""
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            gone = True
        if gone:
            self.dead = True
            self._raw = None
            self._wake.set()

    def _direct_loop(self, sock, write_timeout: float) -> None:
        import gevent

        while True:
            if self._backlog is None:  # frames queued before direct mode, or without _sock
                queued = self._drain()
                self._backlog = sse.chunk(queued) if queued else None
            while self._backlog is not None and not self.dead:
                try:
                    with gevent.Timeout(write_timeout):
                        sock.sendall(self._backlog)
                    self.direct_bytes += len(self._backlog)
                except gevent.Timeout:
                    STREAM_DROPS.inc()  # ended, never thinned (docs/design.md §5b)
                    self.dead = True
                    abort(sock)  # part of the chunk may be out: nothing may follow it
                    break
                except OSError:
                    self.dead = True
                    break
                queued = self._drain()
                # Back to direct only once nothing is queued; gevent cannot switch between
                # this check and the assignment, so no frame slips past the queue.
                self._backlog = sse.chunk(queued) if queued else None
            if self.closed or self.dead:
                break
            self._wake.wait()
            self._wake.clear()

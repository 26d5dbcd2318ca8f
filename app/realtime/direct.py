"""A stream's own socket writes, for ``Subscription`` (gunicorn's gevent worker, HTTP/1.1).

After the first frame went out through gunicorn (so the status line, headers and chunked
encoding are set up), the hub writes each tick's frames, already framed as one HTTP/1.1
chunk and encoded once for every stream, straight to the socket with a non-blocking
``send``: one system call per stream and tick, no greenlet switch. Two ways to hold the
connection meanwhile:

- **handed over** (``hand_over``, the usual one): the connection leaves gunicorn. The stream
  keeps a duplicate of the socket; gunicorn's request, parser and greenlet end and free
  their memory (no greenlet waits per stream). What the socket cannot take at once (a slow
  client) is sent by a libev write watcher in the event loop; the end of the stream (its
  ``retry:`` and the last chunk) is written the same way, and then the connection closes.
- **greenlet** (``run_direct``, when the server's response object is not reachable): the
  request's greenlet stays, sleeping, and sends the backlogs itself.

Either way frames offered while a backlog is unsent queue as usual, so nothing is
interleaved or lost, and a client that leaves a backlog unsent for the write timeout is cut
with a reset (``abort``): no later write can follow half a chunk.
"""

import _socket
import contextlib
import os
import socket
import struct
import time

from app.metrics import DIRECT_STREAMS, STREAM_DROPS
from app.realtime import sse

# SO_LINGER on, zero seconds: close() sends a TCP reset and discards what is unsent.
_RESET_ON_CLOSE = struct.pack("ii", 1, 0)
READ, WRITE = 1, 2  # libev's EV_READ, EV_WRITE


def abort(sock) -> None:
    """Cut a connection whose client stopped reading mid-chunk: shut both ways now (every
    later write on it fails, so the server cannot append the terminating chunk after half a
    chunk, and the connection is never reused) and make its close a reset, which discards
    the unsent rest instead of trickling it out (RFC 9293 §3.10.7.1: ABORT)."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _forget_in_epoll(loop, fd: int) -> None:
    """Take ``fd`` out of the event loop's epoll set before the server closes it. The open
    connection lives on under the stream's duplicate, and epoll keeps an entry while any
    descriptor of it is open (epoll(7), Q6): an event on it would then name a descriptor
    libev no longer knows, and libev answers that by rebuilding its whole epoll set, O(open
    connections) on every such event."""
    if getattr(loop, "backend", None) != "epoll":
        return
    from gevent import monkey

    epoll = monkey.get_original("select", "epoll")  # gevent's select module has none
    with contextlib.suppress(OSError, ValueError):
        poller = epoll.fromfd(os.dup(loop.fileno()))  # the same epoll instance
        try:
            poller.unregister(fd)
        except OSError:
            pass  # never registered (its request arrived before gunicorn read it)
        finally:
            poller.close()


def fan_out(subs, chunk: bytes, frames: tuple) -> None:
    """Offer one tick to many streams: for a direct stream with nothing waiting, the send
    and nothing else (no call, no lookup beyond its socket); any other goes the general way,
    ``sub.offer(*frames)`` (``frames``: ``(events, snapshot, chunk, presence)``)."""
    size = len(chunk)
    for sub in subs:
        raw = sub._raw
        if raw is None or sub._backlog is not None or sub.closed:
            sub.offer(*frames)
            continue
        try:
            sent = raw.send(chunk)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            sub._gone()
            continue
        sub.direct_bytes += sent
        if sent != size:
            sub._keep(chunk[sent:])


class DirectWrites:
    """The socket half of ``Subscription`` (a mixin: it uses the queue's ``_drain``,
    ``_wake`` and ``closed``)."""

    __slots__ = (
        "_raw",
        "_backlog",
        "_since",
        "dead",
        "direct_bytes",
        "handed_over",
        "_watchers",
        "_farewell",
        "_on_end",
    )

    def _init_direct(self) -> None:
        self._raw = None  # the client's socket for the hub's non-blocking send
        self._backlog: bytes | None = None  # unsent tail of a direct chunk
        self._since = 0.0  # when the backlog began (handed over: for the write timeout)
        self.dead = False  # the client went away (a direct write failed)
        self.direct_bytes = 0  # bytes the hub wrote to the socket itself (access log)
        self.handed_over = False
        self._watchers = None  # handed over: (read watcher, write watcher or None)
        self._farewell = None  # handed over: makes the last bytes, once closed
        self._on_end = None

    @property
    def direct(self) -> bool:
        """The hub writes to this stream's socket itself (see the module docstring)."""
        return self._raw is not None

    def _send_direct(self, chunk: bytes) -> bool:
        """Write ``chunk`` if the stream is direct and nothing is waiting before it; False
        when it must queue instead."""
        raw = self._raw
        if raw is None or self._backlog is not None:
            return False
        try:
            # gevent keeps the real socket non-blocking: this never waits, and skips
            # gevent's wrapper, which costs more than the system call at 10,000 streams.
            sent = raw.send(chunk)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._gone()
            return True
        self.direct_bytes += sent
        if sent != len(chunk):
            self._keep(chunk[sent:])
        return True

    def _keep(self, rest: bytes) -> None:
        self._backlog = rest
        if self.handed_over:
            self._since = time.monotonic()
            reader, writer = self._watchers
            if writer is None:
                writer = self._loop().io(self._raw.fileno(), WRITE)
                self._watchers = (reader, writer)
                writer.start(self._writable)
        else:
            self._wake.set()

    def _gone(self) -> None:
        """The client left (EOF, a reset, a failed write)."""
        self.dead = True
        if self.handed_over:
            self._release()
        else:
            self._raw = None
            self._wake.set()

    # -- handed over --------------------------------------------------------------------------
    @staticmethod
    def _loop():
        import gevent

        return gevent.get_hub().loop

    def hand_over(self, sock, farewell: bytes, on_end) -> bool:
        """Take the connection over from the server (see the module docstring): from now on
        this stream writes to a duplicate of ``sock``, and the server may close its own
        descriptor. ``farewell()`` makes what is written last when the stream closes (its
        ``retry:`` and the terminating chunk); ``on_end()`` runs once the connection is
        closed. False
        (nothing changed) when ``sock`` is not a gevent socket over a real one."""
        raw = getattr(sock, "_sock", None)
        if raw is None:
            return False
        try:
            own = _socket.socket(fileno=os.dup(raw.fileno()))
        except OSError:
            return False
        own.setblocking(False)
        loop = self._loop()
        _forget_in_epoll(loop, raw.fileno())
        self._raw, self._farewell, self._on_end = own, farewell, on_end
        self.handed_over = True
        # EventSource never sends after its request, so the socket turning readable means
        # the client went away: noticed now, not at the next heartbeat.
        reader = loop.io(own.fileno(), READ)
        self._watchers = (reader, None)
        reader.start(self._readable)
        DIRECT_STREAMS.inc()
        queued = self._drain()
        if queued:
            self._send_direct(sse.chunk(queued))
        if self.closed:
            self._finish()
        return True

    def _readable(self) -> None:
        # Runs in gevent's hub: it must never block, hence MSG_DONTWAIT on the real socket.
        raw = self._raw
        if raw is None:
            return
        try:
            # Anything a client sends on a stream is discarded (and an EOF means it left).
            gone = raw.recv(4096, socket.MSG_DONTWAIT) == b""
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            gone = True
        if gone:
            self._gone()

    def _writable(self) -> None:
        """The socket takes more: send the backlog, then whatever queued behind it."""
        while self._raw is not None and self._backlog is not None:
            data = self._backlog
            try:
                sent = self._raw.send(data)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self._gone()
                return
            self.direct_bytes += sent
            if sent < len(data):
                self._backlog = data[sent:]
                return
            queued = self._drain()
            self._backlog = sse.chunk(queued) if queued else None
            self._since = time.monotonic()
        if self._raw is None:
            return
        reader, writer = self._watchers
        if writer is not None:
            writer.stop()
            writer.close()
            self._watchers = (reader, None)
        if self.closed:
            self._finish()

    def _finish(self) -> None:
        """Closed: write what is queued and the farewell, then close the connection (once
        the backlog is out, if there is one: ``_writable`` calls this again)."""
        if self._raw is None or self._backlog is not None:
            return
        farewell = self._farewell
        if farewell is not None:
            self._farewell = None
            queued = self._drain()
            self._send_direct((sse.chunk(queued) if queued else b"") + farewell())
            if self._raw is None or self._backlog is not None:
                return
        self._release(graceful=True)

    def stalled(self, now: float, write_timeout: float) -> bool:
        """Handed over and a backlog unsent for ``write_timeout`` seconds."""
        return self.handed_over and self._backlog is not None and now - self._since > write_timeout

    def drop(self) -> None:
        """End a stalled stream (``stalled``): a reset, never a half chunk followed by more."""
        if self._raw is None:
            return
        STREAM_DROPS.inc()  # ended, never thinned (docs/design.md §5b)
        abort(self._raw)
        self.dead = True
        self._release()

    def _release(self, graceful: bool = False) -> None:
        raw, self._raw = self._raw, None
        if raw is None:
            return
        for watcher in self._watchers or ():
            if watcher is not None:
                watcher.stop()
                watcher.close()
        self._watchers = None
        if graceful:
            with contextlib.suppress(OSError):
                raw.shutdown(socket.SHUT_WR)
        raw.close()
        DIRECT_STREAMS.dec()
        on_end, self._on_end = self._on_end, None
        if on_end is not None:
            on_end()

    # -- greenlet ---------------------------------------------------------------------------
    def run_direct(self, sock, write_timeout: float) -> None:
        """Direct mode until closed, with this (the request's) greenlet sending backlogs.
        Returns when the stream should end; a client that leaves a backlog unsent for
        ``write_timeout`` seconds, or whose socket errors, is dropped (``dead``)."""
        import gevent

        self._raw = getattr(sock, "_sock", None)  # None: offer() queues for this greenlet
        watcher = self._loop().io(sock.fileno(), READ)
        watcher.start(self._readable)
        DIRECT_STREAMS.inc()
        try:
            while True:
                if self._backlog is None:  # frames queued before direct mode, or no _sock
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
                    # Back to direct only once nothing is queued; gevent cannot switch
                    # between this check and the assignment, so no frame slips past.
                    self._backlog = sse.chunk(queued) if queued else None
                if self.closed or self.dead:
                    break
                self._wake.wait()
                self._wake.clear()
        finally:
            DIRECT_STREAMS.dec()
            watcher.stop()
            watcher.close()
            self._raw = None

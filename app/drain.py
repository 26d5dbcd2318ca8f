"""A worker that shuts down (SIGTERM, a HUP reload, a ``max_requests`` recycle) drains
(docs/design.md §5b): it answers what it still receives, never refuses, and gets its
clients onto the workers that replace it.

- **Idle keep-alive connections stay open a moment, then close.** Closing one races with a
  request the client sends on it in the same instant, and nginx retries only idempotent
  requests (RFC 9112 §9.3.1): a checkout sent just then got a 502. So draining starts by
  answering everything with ``Connection: close`` and closes the connections still idle
  only ``DRAIN_IDLE_SECONDS`` later (``gunicorn.conf.py``), longer than nginx's upstream
  ``keepalive_timeout`` (``deploy/orderpulse-site.conf``): by then nginx has closed every
  idle upstream connection itself, and only clients talking to gunicorn directly can
  still meet the close. Each is shut both ways, so gunicorn reads EOF where it waits for
  the next request and the worker's pool empties.
- **A connection busy when draining started closes after its answer**: shut for reading
  only, so that the answer's end (a chunked body's last chunk) still goes out.
- Stream requests meanwhile get ``200 text/event-stream`` with ``retry:`` and
  ``Connection: close`` (``app/web/sse_response.py``), never a 503: by the HTML spec any
  non-200 answer ends an EventSource for good.
"""

import contextlib
import socket
import threading
import weakref

SOCKET_KEY = "gunicorn.socket"
_lock = threading.Lock()
_idle: "weakref.WeakSet" = weakref.WeakSet()  # connections between two requests
_draining = False


def draining() -> bool:
    """True once this process started shutting down."""
    return _draining


def start_draining() -> None:
    """Mark this process as draining: from now on every answer's connection closes after
    it (``close_idle`` ends the ones idle meanwhile). Idempotent."""
    global _draining
    with _lock:
        _draining = True


def close_idle() -> int:
    """Close the keep-alive connections idle since draining started (see the module
    docstring); returns how many."""
    with _lock:
        idle = list(_idle)
        _idle.clear()
    for sock in idle:
        end_keepalive(sock, socket.SHUT_RDWR)
    return len(idle)


def end_keepalive(sock, how: int = socket.SHUT_RD) -> None:
    """Let the server close ``sock`` once its current answer is out (see the module
    docstring). TLS sockets are left alone: a shutdown under TLS would break the session."""
    if sock is None or hasattr(sock, "getpeercert"):
        return
    with contextlib.suppress(OSError):  # the client left already: nothing to close
        sock.shutdown(how)


class ConnectionTracker:
    """WSGI middleware: knows which of gunicorn's connections sit idle between requests."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        sock = environ.get(SOCKET_KEY)
        if sock is not None:
            with _lock:
                _idle.discard(sock)
        body = self.app(environ, start_response)
        return body if sock is None else _Finished(body, sock, environ)


# Set by a stream that took its connection over (app/realtime/direct.py): the server is
# done with it, but the connection is not idle; it closes when the stream ends.
HANDED_OVER_KEY = "orderpulse.handed_over"


class _Finished:
    def __init__(self, body, sock, environ):
        self.body, self.sock, self.environ = body, sock, environ

    def __iter__(self):
        return iter(self.body)

    def close(self) -> None:
        try:
            if hasattr(self.body, "close"):
                self.body.close()
        finally:
            self._mark()

    def _mark(self) -> None:
        if self.environ.get(HANDED_OVER_KEY):
            return
        with _lock:
            keep = not _draining
            if keep:
                _idle.add(self.sock)
        if not keep:
            end_keepalive(self.sock)


def reset() -> None:
    """Forget the draining state and the idle connections (tests run many apps in one
    process; a worker never leaves draining)."""
    global _draining
    with _lock:
        _draining = False
        _idle.clear()

"""The response an SSE view returns (docs/design.md §1, §5b): ``stream_response`` for an
open subscription (``retry:`` and the snapshot first, then the hub's frames; under
gunicorn's gevent worker the connection is handed over to the hub after the first frame),
and the retry-only answers of a draining or busy worker (``draining_answer``,
``busy_answer``: never a 503, which ends an EventSource for good)."""

import contextlib
import functools
import os
import random
import socket
import ssl

from flask import Response, current_app, request
from flask_login import current_user

from app import drain
from app.extensions import release_session
from app.logs import EXTRA_BYTES_KEY, LATER_KEY, SERVER_RESPONSE_KEY
from app.metrics import BUSY_ANSWERS, DRAINING_ANSWERS
from app.realtime import shutdown, sse


def _direct_socket():
    """The client socket when the hub may write to it directly: gunicorn's gevent worker,
    an HTTP/1.1 GET (so gunicorn uses chunked encoding), a plain TCP socket, and the
    feature on. ``None`` means the generator path (gunicorn writes every frame)."""
    sock = request.environ.get("gunicorn.socket")
    if (
        sock is None
        or not current_app.config["SSE_DIRECT_WRITE"]
        or request.environ.get("SERVER_PROTOCOL") != "HTTP/1.1"
        or request.method != "GET"
        or not type(sock).__module__.startswith("gevent")
        or is_tls(sock)
    ):
        return None
    return sock


def is_tls(sock) -> bool:
    """True for a TLS socket (gunicorn ``--certfile``). gevent's ``SSLSocket`` keeps the
    plain TCP socket in ``_sock``, and the hub's direct write goes there: bytes written to it
    would be cleartext inside the TLS session. gevent's class is not a
    subclass of ``ssl.SSLSocket``, so its TLS-only methods are checked as well."""
    return isinstance(sock, ssl.SSLSocket) or any(
        hasattr(sock, name) for name in ("_sslobj", "cipher", "getpeercert")
    )


def _cap_send_buffer(sock) -> None:
    """Bound the kernel memory a client that stops reading can pin (``SSE_SEND_BUFFER_BYTES``)
    and make it fill up, and so meet ``SSE_WRITE_TIMEOUT_SECONDS``, after a few frames."""
    size = current_app.config["SSE_SEND_BUFFER_BYTES"]
    if sock is not None and size > 0:
        with contextlib.suppress(OSError):  # not a TCP socket (tests): nothing to cap
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)


def stream_response(hub, sub) -> Response:
    """``200 text/event-stream`` for ``sub`` (opened on ``hub`` by the view): the headers
    of ``sse.HEADERS``, the body ``_Body``; the request's database session goes back to
    the pool first (no connection while streaming)."""
    config = current_app.config
    direct = _direct_socket()
    _cap_send_buffer(request.environ.get("gunicorn.socket"))
    release_session()
    headers = dict(sse.HEADERS)
    if config["EXPOSE_WORKER_PID"]:  # cross-process tests need to know who served them
        headers["X-Worker-Pid"] = str(os.getpid())
        # ... and whether this worker knew the session without a query (the session cache)
        headers["X-Session-Cache"] = "hit" if getattr(current_user, "cached", False) else "miss"
    client = request.environ.get("gunicorn.socket")
    # The access log's byte count includes what the hub wrote to the socket itself.
    request.environ[EXTRA_BYTES_KEY] = lambda: sub.direct_bytes
    return Response(
        _Body(
            hub,
            sub,
            config["SSE_RETRY_MS"],
            direct,
            config["SSE_WRITE_TIMEOUT_SECONDS"],
            client,
            request.environ,
        ),
        mimetype="text/event-stream",
        headers=headers,
        direct_passthrough=True,
    )


class _Body:
    """The response iterable. Its ``close`` unsubscribes even when the server closes the
    response before the generator ever ran (a client gone at once), when a generator's own
    ``finally`` would not run."""

    def __init__(self, hub, sub, *args):
        self.hub, self.sub = hub, sub
        self._frames = _frames(hub, sub, *args)

    def __iter__(self):
        return self._frames

    def close(self) -> None:
        self._frames.close()
        if not self.sub.handed_over:  # else it ends with its connection (direct.py)
            self.hub.close(self.sub)


def _frames(
    hub, sub, retry_ms: int, direct_sock, write_timeout: float, client_sock=None, environ=None
):
    """``retry:`` and the snapshot first, then whatever the hub queues, until the lifetime
    ends (the hub closes the subscription) or the client goes away. Under gunicorn's gevent
    worker the connection is handed over after the first frame: the generator ends there,
    gunicorn's part of the request with it, and the stream writes the rest itself."""
    try:
        yield sse.retry(retry_ms) + sub.ready_frames()
        if direct_sock is not None:
            # gunicorn has written headers and the first chunk: the hub takes over.
            if _hand_over(hub, sub, direct_sock, retry_ms, environ):
                return
            sub.run_direct(direct_sock, write_timeout)
            if sub.dead:
                return
        else:
            while (chunk := sub.take()) is not None:
                if chunk:
                    yield chunk
        # Lifetime over or the worker draining: reconnect, maybe to another worker, after a
        # jittered delay (clients ended together do not come back together).
        yield sse.retry(shutdown.jittered(retry_ms))
        if hub.registry.draining or drain.draining():
            # The reconnect must open a new connection, which reaches a live worker.
            drain.end_keepalive(client_sock)
    finally:
        if not sub.handed_over:
            hub.close(sub)


LAST_CHUNK = b"0\r\n\r\n"  # the end of a chunked body (RFC 9112 §7.1)


class _Afterwards(list):
    """What runs when a handed-over stream ends: the hub forgets it, then its access line
    (``app/logs.py`` adds that after the hand-over; at once if the stream ended already)."""

    __slots__ = ("hub", "sub", "ended")  # one per open stream: no __dict__

    def __init__(self, hub, sub):
        super().__init__()
        self.hub, self.sub, self.ended = hub, sub, False

    def append(self, line) -> None:
        if self.ended:
            line()
        else:
            super().append(line)

    def __call__(self) -> None:
        self.ended = True
        self.hub.close(self.sub)
        for line in self:
            line()
        self.clear()


@functools.lru_cache(maxsize=8)
def _farewell(retry_ms: int):
    """What a handed-over stream writes last: its ``retry:``, jittered as every stream's
    last one (``shutdown.jittered``: clients ended together do not come back together),
    and the last chunk. Made when the stream ends; one function per setting, shared by
    every stream."""
    return lambda: sse.chunk(sse.retry(shutdown.jittered(retry_ms))) + LAST_CHUNK


def _hand_over(hub, sub, sock, retry_ms: int, environ) -> bool:
    """Give the connection to the stream (``Subscription.hand_over``), so that no greenlet
    or request object of gunicorn's stays per stream. gunicorn is then told to write no
    terminating chunk (the stream writes its own at its end) and to close its descriptor
    instead of waiting for another request; the connection lives on under the stream's
    duplicate. Only under gunicorn, whose response object the access log middleware keeps
    (``SERVER_RESPONSE_KEY``); elsewhere False, and the stream keeps its greenlet."""
    server_response = (environ or {}).get(SERVER_RESPONSE_KEY)
    if (
        type(server_response).__module__ != "gunicorn.http.wsgi"
        or not getattr(server_response, "chunked", False)
        or not hasattr(server_response, "force_close")
        or _pipelined(environ, sock)
    ):
        return False
    afterwards = _Afterwards(hub, sub)
    if not sub.hand_over(sock, _farewell(retry_ms), afterwards):
        return False
    server_response.chunked = False
    server_response.force_close()
    environ[drain.HANDED_OVER_KEY] = True
    environ[LATER_KEY] = afterwards
    return True


def _pipelined(environ, sock) -> bool:
    """The client sent more after this request (pipelining, RFC 9112 §9.3.2), in the socket
    or already in gunicorn's read buffer: gunicorn must answer it after the stream, so the
    connection stays gunicorn's (no EventSource pipelines; a test or a proxy might)."""
    reader = getattr(environ.get("wsgi.input"), "reader", None)
    buffered = getattr(getattr(reader, "unreader", None), "buf", None)
    if buffered is not None and buffered.getbuffer().nbytes:
        return True
    try:
        return bool(sock._sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
    except (BlockingIOError, InterruptedError):
        return False
    except (OSError, AttributeError):
        return True


def draining_answer() -> Response:
    """What a shutting-down worker answers a stream request (docs/design.md §5b): ``200
    text/event-stream`` with ``retry:`` and ``Connection: close``, so the client reconnects
    on a new connection, to a live worker. Never a 503: by the HTML spec ("Server-sent
    events", §9.2.3) any status but 200 makes an EventSource fail for good. gunicorn drops
    the app's hop-by-hop header but, while its worker shuts down, closes every connection
    after its answer and says so itself."""
    DRAINING_ANSWERS.inc()
    drain.end_keepalive(request.environ.get("gunicorn.socket"))
    retry_ms = current_app.config["SSE_RETRY_MS"]
    return _retry_only(retry_ms, "this server is restarting", {"Connection": "close"})


def busy_answer() -> Response:
    """What a stream request gets when the database pool had no connection for it within
    ``DATABASE_POOL_TIMEOUT_SECONDS`` (a reconnect storm of sessions this worker has not
    cached, not an outage): ``200 text/event-stream`` with a ``retry:`` of 2 to 6 ×
    ``SSE_RETRY_MS``, jittered so the clients come back spread out. Never a 503, for the
    same reason as ``draining_answer``."""
    BUSY_ANSWERS.inc()
    retry_ms = int(current_app.config["SSE_RETRY_MS"] * random.uniform(2, 6))
    return _retry_only(retry_ms, "this server is busy, come back shortly")


def _retry_only(retry_ms: int, why: str, headers: dict | None = None) -> Response:
    """``200 text/event-stream`` that says only ``retry: <retry_ms>`` and ``why`` (an SSE
    comment), then ends: the client reconnects (the request's database session goes
    back to the pool first)."""
    release_session()
    body = sse.retry(retry_ms) + f": {why}\n\n".encode()
    return Response(
        body, status=200, mimetype="text/event-stream", headers={**sse.HEADERS, **(headers or {})}
    )

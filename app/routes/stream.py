"""SSE endpoints. Each view authenticates, reads what it needs, releases its DB session and
returns a generator that touches only the hub (DESIGN.md §1: no connection while streaming;
never wrapped in ``stream_with_context``, which would keep the request's session alive)."""

import contextlib
import os
import socket
import ssl

from flask import Blueprint, Response, current_app, request
from flask_login import current_user

from app.extensions import release_session
from app.realtime import get_hub, sse
from app.routes.account import own_order_or_404
from app.security import admin_required, customer_required

bp = Blueprint("stream", __name__)


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
    would be cleartext inside the TLS session (issue 11, finding 8). gevent's class is not a
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


def _respond(hub, sub) -> Response:
    config = current_app.config
    direct = _direct_socket()
    _cap_send_buffer(request.environ.get("gunicorn.socket"))
    release_session()
    headers = dict(sse.HEADERS)
    if config["EXPOSE_WORKER_PID"]:  # cross-process tests need to know who served them
        headers["X-Worker-Pid"] = str(os.getpid())
    return Response(
        _Body(hub, sub, config["SSE_RETRY_MS"], direct, config["SSE_WRITE_TIMEOUT_SECONDS"]),
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
        self.hub.unsubscribe(self.sub)


def _frames(hub, sub, retry_ms: int, direct_sock, write_timeout: float):
    """``retry:`` and the snapshot first, then whatever the hub queues, until the lifetime
    ends (the hub closes the subscription) or the client goes away."""
    try:
        yield sse.retry(retry_ms) + (sub.take(0) or b"")
        if direct_sock is not None:
            # gunicorn has written headers and the first chunk: the hub takes over.
            sub.run_direct(direct_sock, write_timeout)
            if sub.dead:
                return
        else:
            while (chunk := sub.take()) is not None:
                if chunk:
                    yield chunk
        yield sse.retry(retry_ms)  # lifetime over: reconnect, maybe to another worker
    finally:
        hub.unsubscribe(sub)


@bp.get("/admin/orders/stream")
@admin_required
def admin_stream():
    """``text/event-stream`` for the dashboard (DESIGN.md §4).

    Frames: ``retry:``; the snapshot (``id:`` version, ``data: {type: "initial", stats...,
    recent_updates, timestamp, version}``); then ``type: "update"`` snapshots and
    ``event: order`` ``{kind, order}`` frames as commits happen; ``: heartbeat`` every
    ``SSE_HEARTBEAT_SECONDS``; ends after ``SSE_LIFETIME_SECONDS`` ± jitter.
    401 JSON logged out, 403 JSON for customers, 429 JSON past ``SSE_MAX_STREAMS_PER_USER``.
    """
    hub = get_hub()
    return _respond(hub, hub.subscribe_admin(current_user.id))


@bp.get("/orders/<order_number>/stream")
@customer_required
def order_stream(order_number: str):
    """The owner's live tracking: ``data: {type: "initial"|"update", order_number, status,
    cancelled, cancellation_reason, estimated_delivery, actual_delivery, updated_at}``.
    401 JSON logged out, 404 JSON for an unknown or someone else's order."""
    order = own_order_or_404(order_number)
    hub = get_hub()
    return _respond(hub, hub.subscribe_order(order, current_user.id))

"""SSE endpoints. Each view authenticates, reads what it needs, releases its DB session and
returns a generator that touches only the hub (docs/design.md §1: no connection while streaming;
never wrapped in ``stream_with_context``, which would keep the request's session alive)."""

import contextlib
import functools
import os
import random
import socket
import ssl

from flask import Blueprint, Response, current_app, request
from flask_login import current_user, login_required

from app import drain
from app.extensions import limiter, release_session
from app.logs import EXTRA_BYTES_KEY, LATER_KEY, SERVER_RESPONSE_KEY
from app.metrics import BUSY_ANSWERS, DRAINING_ANSWERS
from app.realtime import get_hub, shutdown, sse
from app.realtime.presence import parse_focus
from app.realtime.registry import Draining
from app.realtime.subscription import Subscription
from app.routes.account import own_order_or_404
from app.security import admin_required, limits_off, user_limit_key
from app.services import Invalid
from app.web.args import parse_int

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


def last_event_id():
    """The version the client already has: the ``Last-Event-ID`` header EventSource sends
    when it reconnects by itself (HTML Living Standard, "Server-sent events"), else the
    ``?last_event_id=`` a page passes when it opens a new EventSource (after its own
    backoff, or when another tab hands the stream over). ``None`` when neither is given;
    ``Subscription.RESET`` for a value that is no version (the client gets a reset)."""
    raw = request.headers.get("Last-Event-ID")
    if raw is None:
        raw = request.args.get("last_event_id")
    if raw is None or raw.strip() == "":
        return None
    version = parse_int(raw)
    return version if version is not None and version >= 0 else Subscription.RESET


def stream_focus(args):
    """``?focus=`` as ``(order id, action)``: ``(None, None)`` when empty, ``None`` when
    absent or malformed (presence keeps what it knew)."""
    raw = args.get("focus")
    if raw is None:
        return None
    if raw == "":
        return (None, None)
    action, _, order_id = raw.partition(":")
    order_id = parse_int(order_id)
    if order_id is None:
        return None
    try:
        return parse_focus(order_id, action or None)
    except Invalid:
        return None


def _respond(hub, sub) -> Response:
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


@bp.get("/admin/orders/stream")
@admin_required
def admin_stream():
    """``text/event-stream`` for the dashboard (docs/design.md §4).

    Frames: ``retry:``; the first snapshot (``id:`` version, ``data: {type: "initial",
    stats..., version, recent_updates, activity, revenue, resumed_from, timestamp}``); then
    ``type: "update"`` snapshots (``recent_updates`` and ``revenue`` buckets changed since
    the previous one) and ``event: order`` ``{kind, order, actor, activity}`` frames as
    commits happen; ``: heartbeat`` every ``SSE_HEARTBEAT_SECONDS``; ends after
    ``SSE_LIFETIME_SECONDS`` ± jitter; ``event: revoked`` ``{reason}`` and the end when
    this session ends (logout, password change, demotion, deactivation). ``event:
    presence`` ``{admins: [{user_id, username, session, order_id, action, since}],
    timestamp}`` after the first frame and whenever presence changes (docs/design.md §5a);
    ``?focus=<action>:<order id>`` (or ``focus=`` for none) is the dialog the page has open
    (ignored when malformed: a stream never fails over presence). With
    ``Last-Event-ID`` (or ``?last_event_id=``) V
    within the resume window, the first snapshot carries the orders and activity changed
    since V (``resumed_from: V``); beyond it, or for an unknown or future id, the first
    frame is ``{type: "reset", stats...}``. 401 JSON logged out, 403 JSON for customers,
    429 JSON past ``SSE_MAX_STREAMS_PER_USER``; while the worker restarts, ``retry:`` and the
    end (``draining_answer``).
    """
    hub = get_hub()
    user = current_user
    try:
        sub = hub.open_admin(
            user.id, user.session_id, last_event_id(), user.username, stream_focus(request.args)
        )
    except Draining:
        return draining_answer()
    return _respond(hub, sub)


@bp.get("/orders/<order_number>/stream")
@login_required
def order_stream(order_number: str):
    """The owner's live tracking: ``data: {type: "initial"|"update", order_number, status,
    cancelled, cancellation_reason, estimated_delivery, actual_delivery, updated_at,
    balance}`` (``balance``: the customer's credits; updates also carry the ``activity``
    entry of the change), and ``{type: "balance", balance}`` when another order of the
    customer charges or refunds credits. 401 JSON logged out, 404 JSON for an unknown or
    someone else's order; while the worker restarts, ``draining_answer``."""
    order = own_order_or_404(order_number)
    hub = get_hub()
    try:
        sub = hub.open_order(order.id, current_user.id, current_user.session_id)
    except Draining:
        return draining_answer()
    return _respond(hub, sub)


# Streams with no rate limit of their own: a reconnect storm is thousands of them a second,
# and the per-user stream cap (SSE_MAX_STREAMS_PER_USER) already bounds each account, so
# the limiter skips them before it resolves any limit (the storefront's stream keeps its
# per-client limit below).
UNLIMITED = frozenset({"stream.admin_stream", "stream.order_stream"})


@limiter.request_filter
def _unlimited_stream() -> bool:
    return request.endpoint in UNLIMITED


def _storefront_limit() -> str:
    return current_app.config["RATELIMIT_STOREFRONT_STREAM"]


@bp.get("/catalogue/stream")
@limiter.limit(_storefront_limit, key_func=user_limit_key, exempt_when=limits_off)
def catalogue_stream():
    """The storefront's live stock, for anyone (signed in or not): ``data: {type:
    "initial", version, products: [{id, stock, active, label}]}`` with the products changed
    since ``?since=`` (the version the page was rendered at), then ``{type: "stock",
    version, products}`` whenever a checkout, a cancel or an admin changes stock or withdraws
    a product (``label``: "Out of stock", "Only N left" or null). ``: heartbeat`` and the
    lifetime as for every stream. 429 JSON past ``RATELIMIT_STOREFRONT_STREAM`` opens per
    client; a draining worker answers as for every stream (``draining_answer``,
    docs/design.md §5b)."""
    since = parse_int(request.args.get("since"))
    since = since if since is not None and 0 <= since < 2**63 else None
    user_id = current_user.id if current_user.is_authenticated else None
    session_id = current_user.session_id if user_id is not None else None
    hub = get_hub()
    try:
        sub = hub.open_catalogue(user_id, session_id, since=since)
    except Draining:
        return draining_answer()
    return _respond(hub, sub)

"""Request ids, the access log and the request metrics, in one WSGI middleware.

- **Request id**: nginx's ``$request_id`` arrives as ``X-Request-ID`` (deploy/orderpulse-
  site.conf); without one (a direct client) an id is made here. It is echoed back in the
  answer's ``X-Request-ID`` and carried by every log line written while the request runs
  (``logsetup.REQUEST_ID``), so one id joins nginx's access log, the app's lines and the
  browser's network panel.
- **Access log**: one line per request on the ``orderpulse.access`` logger when its answer
  is finished (a stream: when it ends): method, path, status, duration (ms), bytes sent
  (direct stream writes included), the client address (nginx's view, believed from a peer
  in ``FORWARDED_ALLOW_IPS``).
- **Metrics**: ``orderpulse_http_requests_total{route,method,status}`` and the latency
  histogram ``orderpulse_http_request_duration_seconds{route,status}`` up to the answer's
  start, by the URL rule (``/orders/<order_number>``), never the path.
"""

import logging
import re
import time
import uuid

from app.metrics import REQUEST_SECONDS, REQUESTS
from logsetup import REQUEST_ID

log = logging.getLogger("orderpulse.access")
# nginx's $request_id is 32 hex digits; other proxies send UUIDs. Anything else (too long,
# spaces, control characters) is replaced: it would be written into every log line.
VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
ROUTE_KEY = "orderpulse.route"  # set by the app once the URL matched a rule
EXTRA_BYTES_KEY = "orderpulse.extra_bytes"  # a stream's direct writes (callable → int)
# gunicorn's response object (the bound ``start_response``'s owner), for a stream that takes
# the connection over (app/realtime/direct.py); ``None`` under other servers.
SERVER_RESPONSE_KEY = "orderpulse.server_response"
# Set by a stream that took the connection over: a list to which the access line is added,
# to be written when the stream really ends (the server's part ends at once).
LATER_KEY = "orderpulse.log_later"


def request_id(environ) -> str:
    """The request's id: a valid ``X-Request-ID`` as sent, else a new 32-hex-digit one."""
    sent = environ.get("HTTP_X_REQUEST_ID", "")
    return sent if VALID_ID.fullmatch(sent) else uuid.uuid4().hex


class AccessLog:
    """WSGI middleware around the Flask app (inside ``TrustedProxies``, so the address is
    the client's)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        rid = request_id(environ)
        environ["orderpulse.request_id"] = rid
        environ[SERVER_RESPONSE_KEY] = getattr(start_response, "__self__", None)
        token = REQUEST_ID.set(rid)
        answer = {"status": "000", "latency": None}

        def start(status, headers, exc_info=None):
            answer["status"] = status.split(" ", 1)[0]
            answer["latency"] = time.perf_counter() - started
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
            headers.append(("X-Request-ID", rid))
            return start_response(status, headers, exc_info)

        try:
            body = self.app(environ, start)
        except BaseException:
            _reset(token)
            raise
        return _Body(body, environ, started, answer, token)


class _Body:
    """The response iterable: counts bytes, and writes the access line on ``close``."""

    def __init__(self, body, environ, started, answer, token):
        self.body, self.environ, self.started = body, environ, started
        self.answer, self.token = answer, token
        self.sent = 0

    def __iter__(self):
        for chunk in self.body:
            self.sent += len(chunk)
            yield chunk

    def close(self) -> None:
        if self.token is None:  # closed already (a test client may close twice)
            return
        try:
            if hasattr(self.body, "close"):
                self.body.close()
        finally:
            later = self.environ.get(LATER_KEY)
            if later is None:
                self._record()
            else:  # a stream the hub now writes itself: its line when it ends
                later.append(_Line(self))
            _reset(self.token)
            self.token = None

    def _record(self) -> None:
        _Line(self)()


class _Line:
    """One access line, written when called (a handed-over stream: when it ends). Keeps
    only what the line needs, not the request's environ."""

    __slots__ = ("rid", "method", "path", "route", "status", "latency", "started", "sent")
    __slots__ += ("extra", "remote")

    def __init__(self, body: _Body):
        environ, answer = body.environ, body.answer
        self.rid = environ.get("orderpulse.request_id", "-")
        self.method = environ.get("REQUEST_METHOD", "-")
        self.path = environ.get("PATH_INFO", "")
        self.route = environ.get(ROUTE_KEY) or "unmatched"
        self.status, self.latency = answer["status"], answer["latency"]
        self.started, self.sent = body.started, body.sent
        self.extra = environ.get(EXTRA_BYTES_KEY)
        self.remote = environ.get("REMOTE_ADDR", "-")

    def __call__(self) -> None:
        route, status, method, path = self.route, self.status, self.method, self.path
        sent = self.sent + (self.extra() if self.extra else 0)
        took = time.perf_counter() - self.started
        REQUESTS.labels(route, method, status).inc()
        REQUEST_SECONDS.labels(route, status).observe(self.latency or took)
        token = REQUEST_ID.set(self.rid)
        try:
            self._log(method, path, status, took, sent)
        finally:
            _reset(token)

    def _log(self, method, path, status, took, sent) -> None:
        log.info(
            "%s %s %s %.1fms %dB %s",
            method,
            path,
            status,
            took * 1e3,
            sent,
            self.remote,
            extra={
                "method": method,
                "path": path,
                "route": self.route,
                "status": int(status) if status.isdigit() else 0,
                "duration_ms": round(took * 1e3, 1),
                "bytes": sent,
                "remote_addr": self.remote,
            },
        )


def _reset(token) -> None:
    try:
        REQUEST_ID.reset(token)
    except (ValueError, RuntimeError):  # closed from another context (a test client)
        REQUEST_ID.set("-")

"""Clients for tests against real gunicorn (gevent) servers: a browser-like ``Session`` and
an SSE ``StreamReader``. The servers themselves are ``tests/harness.py``'s
``GunicornServer`` (re-exported here); traffic stays on 127.0.0.1 and every wait is bounded.
"""

import http.client
import http.cookiejar
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

# The server harness, under the names the server tests import from here.
from tests.harness import GUNICORN, ROOT, GunicornServer, free_port  # noqa: F401
from tests.helpers import WAIT_TIMEOUT
from tests.sse_client import FrameDecoder

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
# Flask-Login's "strong" session protection ties a session to its user agent.
USER_AGENT = "orderpulse-tests/1"


class _SourceHandler(urllib.request.HTTPHandler):
    """Connects from a chosen local address (127.0.0.2, ...: Linux routes all of 127/8 to
    the loopback interface), so one test can be many clients to a proxy."""

    def __init__(self, source: str):
        super().__init__()
        self.source = source

    def http_open(self, req):
        def connect(host, **kwargs):
            return http.client.HTTPConnection(host, source_address=(self.source, 0), **kwargs)

        return self.do_open(connect, req)


class Session:
    """A browser-like session (cookies, CSRF token, one user agent), logged in when given a
    username; ``source`` is the local address it connects from (default: the kernel's);
    ``timeout`` is each request's socket timeout in seconds."""

    def __init__(
        self,
        base: str,
        username=None,
        password=None,
        source: str | None = None,
        ssl_context=None,
        timeout: float = 10,
    ):
        self.base, self.source, self.ssl_context = base, source, ssl_context
        self.timeout = timeout
        self.jar = http.cookiejar.CookieJar()
        handlers = [urllib.request.HTTPCookieProcessor(self.jar)]
        if source is not None:
            handlers.append(_SourceHandler(source))
        if ssl_context is not None:
            handlers.append(urllib.request.HTTPSHandler(context=ssl_context))
        self.opener = urllib.request.build_opener(*handlers)
        self.opener.addheaders = [("User-Agent", USER_AGENT)]
        token = self._token("/auth/login")
        if username is None:
            self.csrf = token
            return
        form = {"csrf_token": token, "username": username, "password": password}
        self.request("POST", "/auth/login", form=form)
        self.csrf = self._token("/orders")

    def _token(self, path: str) -> str:
        html = self.request("GET", path)[1]
        return CSRF_META.search(html).group(1)

    def request(self, method: str, path: str, json_body=None, form=None, headers=None):
        """``(status, text)``; never raises for HTTP errors."""
        data, extra = None, dict(headers or {})
        if self.base.startswith("https:"):  # as browsers do: Flask-WTF's HTTPS check needs it
            extra.setdefault("Referer", f"{self.base}/")
        if json_body is not None:
            data = json.dumps(json_body).encode()
            extra.update({"Content-Type": "application/json", "X-CSRFToken": self.csrf})
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=extra)
        try:
            with self.opener.open(req, timeout=self.timeout) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)

    def place_order(self, product_id: int = 1) -> dict:
        body = {"items": [{"product_id": product_id, "quantity": 1}], "delivery_method": "pickup"}
        status, text = self.request("POST", "/api/orders", json_body=body)
        assert status == 201, text
        return json.loads(text)["order"]

    def stats(self) -> dict:
        status, text = self.request("GET", "/admin/api/order-updates?minutes=1")
        assert status == 200, text
        return json.loads(text)["stats"]


class StreamReader:
    """Reads SSE frames from a live server with deadlines (``http.client`` decodes the
    chunked transfer encoding, httpx-sse the frames: ``tests/sse_client.py``)."""

    def __init__(self, session: Session, path: str = "/admin/orders/stream", last_id=None):
        scheme, _, address = session.base.partition("://")
        host, port = address.split(":")
        source = (session.source, 0) if session.source else None
        if scheme == "https":
            self.conn = http.client.HTTPSConnection(
                host, int(port), timeout=5, source_address=source, context=session.ssl_context
            )
        else:
            self.conn = http.client.HTTPConnection(
                host, int(port), timeout=5, source_address=source
            )
        headers = {"Cookie": session.cookie_header(), "User-Agent": USER_AGENT}
        if last_id is not None:
            headers["Last-Event-ID"] = str(last_id)
        self.conn.request("GET", path, headers=headers)
        self.response = self.conn.getresponse()
        self.worker_pid = int(self.response.getheader("X-Worker-Pid") or 0)
        self.frames: list[dict] = []
        self._decoder = FrameDecoder()
        self.ended = False

    def next_frames(self, timeout: float) -> list[dict]:
        """Frames that arrive within ``timeout`` seconds (possibly none)."""
        if self.conn.sock is None or self.response.isclosed():
            return self._end()  # http.client closes the connection at the last chunk
        self.conn.sock.settimeout(timeout)
        try:
            chunk = self.response.read1(65536)
        except TimeoutError:
            return []
        if not chunk:
            return self._end()
        frames = self._decoder.feed(chunk)
        self.frames.extend(frames)
        return frames

    def _end(self) -> list[dict]:
        self.ended = True
        frames = self._decoder.end()
        self.frames.extend(frames)
        return frames

    def wait_for(self, predicate, timeout: float = WAIT_TIMEOUT) -> dict:
        """The first frame (already read or new) matching ``predicate``."""
        for frame in self.frames:
            if predicate(frame):
                return frame
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.ended:
            for frame in self.next_frames(max(0.05, deadline - time.monotonic())):
                if predicate(frame):
                    return frame
        raise AssertionError(f"no matching frame in {timeout}s; last frames: {self.frames[-5:]}")

    def close(self) -> None:
        self.conn.close()
        self._decoder.end()


def has_version(version: int):
    """Predicate: a snapshot frame whose ``id:`` (version) is at least ``version``."""
    return lambda frame: frame.get("id") is not None and int(frame["id"]) >= version


def add_admin(database_url: str, username: str) -> None:
    """A second admin in the database at ``database_url`` (the shop's password), for a test
    that ends an admin's rights on a server other tests share."""
    from app import create_app
    from app.extensions import db
    from tests.factories import make_user

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        make_user("admin", credits=0, username=username)
        db.session.remove()
        db.engine.dispose()


def demote_by_cli(database_url: str, username: str) -> None:
    """``flask set-role <username> customer`` in another process on ``database_url``,
    without Redis (its revoke travels by the database's NOTIFY); fails the test if the
    command does."""
    env = {**os.environ, "ORDERPULSE_CONFIG": "development", "DATABASE_URL": database_url}
    env.update(SECRET_KEY="x" * 40, FLASK_APP="wsgi.py")
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "flask", "set-role", username, "customer"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr

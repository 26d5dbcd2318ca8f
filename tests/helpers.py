"""Helpers shared by the test modules: login, DB state snapshots, JSON errors, SSE reading,
and ``wait_until``, the one way a test waits for something to happen."""

import asyncio
import inspect
import json
import os
import re
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import sqlalchemy as sa

from app.extensions import db
from app.models import Order, OrderItem, User
from app.services.counts import read_stats, true_counts
from tests.sse_client import FrameDecoder

STAT_KEYS = {
    "total_orders",
    "pending_count",
    "shipped_count",
    "out_for_delivery",
    "delivered_count",
    "cancelled_count",
    "version",
}
# The contract's `event: order` order object (docs/design.md §4); feed rows carry more.
ORDER_EVENT_KEYS = {
    "id",
    "order_number",
    "status",
    "username",
    "total_credits",
    "delivery_method",
    "date_ordered",
}
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


# ORDERPULSE_TEST_SCALE=full runs the server scenarios at the size they were written for
# (2,050 dashboards through nginx, 500 checkouts at once, ...): capacity, which the suite
# leaves to that flag and to bench/; by default each runs at a size that still proves its
# behaviour in a few seconds (docs/testing.md, "Heavy scenarios").
FULL_SCALE = os.environ.get("ORDERPULSE_TEST_SCALE") == "full"


def scaled(small, full):
    """``full`` under ``ORDERPULSE_TEST_SCALE=full``, else ``small``."""
    return full if FULL_SCALE else small


# Long enough for a loaded two-core machine (a CI run beside other suites); a wait only
# lasts this long when what it waits for never happens.
WAIT_TIMEOUT = 30.0


def wait_until(predicate, timeout: float = WAIT_TIMEOUT, what=None, every: float = 0.05):
    """Call ``predicate()`` every ``every`` seconds until it returns something truthy, and
    return that value. After ``timeout`` seconds, ``AssertionError`` naming ``what`` (a
    string, or a callable giving one at that moment; by default the predicate's source)
    and the last value it returned. Exceptions from the predicate propagate at once.
    Tests wait for the event, never for a tick (docs/testing.md)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            named = what() if callable(what) else what or _describe(predicate)
            raise AssertionError(f"waited {timeout:g} s for {named}; last: {value!r}")
        time.sleep(every)


def _describe(predicate) -> str:
    try:
        return inspect.getsource(predicate).strip()
    except (OSError, TypeError):
        return repr(predicate)


def login(client, username: str, password: str, **form):
    """Log in through the HTML form and check the redirect that means success."""
    response = client.post(
        "/auth/login", data={"username": username, "password": password, **form}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def logged_in_client(app, username: str, password: str = "password123"):
    """A new test client of ``app``, logged in as ``username``."""
    client = app.test_client()
    login(client, username, password)
    return client


def db_state(app, *user_ids: int) -> dict:
    """Everything a rejected request must leave alone: row counts, stats (with version),
    the given users' balances."""
    with app.app_context():
        state = {
            "orders": db.session.scalar(sa.select(sa.func.count(Order.id))),
            "items": db.session.scalar(sa.select(sa.func.count(OrderItem.id))),
            "stats": read_stats(),
            "credits": {uid: db.session.get(User, uid).credits for uid in user_ids},
        }
        db.session.remove()
    return state


def counts_consistent(app) -> bool:
    """``order_counts`` (each counter's shards summed) equals what a full scan of
    ``orders`` says."""
    from app.services.counts import stored_counts

    with app.app_context():
        truth = true_counts()
        stored = dict.fromkeys(truth, 0) | stored_counts()
        db.session.remove()
    return stored == truth


def assert_json_error(response, status: int, contains: str = "") -> dict:
    """The error contract: ``{"success": false, "error": str}`` with ``status``."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.is_json, response.headers.get("Content-Type")
    body = response.get_json()
    assert body["success"] is False
    assert isinstance(body["error"], str) and body["error"]
    assert contains.lower() in body["error"].lower()
    return body


def csrf_token(client) -> str:
    """The token from the ``<meta name="csrf-token">`` of a rendered page (the shop, or the
    HTML 404 page, which extends the same base template)."""
    for path in ("/", "/no-such-page-for-csrf"):
        match = CSRF_META.search(client.get(path).get_data(as_text=True))
        if match:
            return match.group(1)
    raise AssertionError("no page rendered a csrf-token meta tag")


def data(frame: dict):
    """The JSON body of an SSE frame."""
    return json.loads(frame["data"])


def message(kind: str):
    """Predicate: a default ``message`` frame whose body has ``type == kind``."""
    return lambda f: f["event"] == "message" and f["data"] and data(f).get("type") == kind


def order_event(kind: str):
    """Predicate: an ``event: order`` frame with ``kind``."""
    return lambda f: f["event"] == "order" and data(f)["kind"] == kind


def is_heartbeat(frame: dict) -> bool:
    return frame.get("comment") == "heartbeat"


class SSEStream:
    """Reads frames from a streaming test response with deadlines.

    The blocking ``next()`` on the response iterator runs in a worker thread, so a stream
    that never sends fails the test with the frames seen so far instead of hanging it.
    Frames are decoded by httpx-sse, a client we did not write (``tests/sse_client.py``,
    which also says what a frame holds).
    """

    def __init__(self, response):
        self.response = response
        self.headers = response.headers
        self._it = iter(response.response)
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._pending = None
        self._decoder = FrameDecoder()
        self._frames: deque[dict] = deque()
        self.seen: list[dict] = []
        self.chunks: list = []
        self.ended = False

    def _pull(self, timeout: float) -> bool:
        if self._pending is None:
            self._pending = self._pool.submit(next, self._it, None)
        try:
            chunk = self._pending.result(timeout=max(timeout, 0.0))
        except FutureTimeout:
            return False
        self._pending = None
        if chunk is None:
            self.ended = True
            self._frames.extend(self._decoder.end())
            return True
        self.chunks.append(chunk)
        self._frames.extend(self._decoder.feed(chunk))
        return True

    def wait_first_data(self, timeout: float = WAIT_TIMEOUT) -> None:
        """Block until the hub's first frame with data has arrived (left unread), or the
        stream ended. Until then the stream is pending: a commit in between reaches it
        only as part of that first frame's snapshot, never as an ``event: order``."""
        deadline = time.monotonic() + timeout
        while not self.ended and not any(f.get("data") is not None for f in self._frames):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no first frame within {timeout} s: {list(self._frames)}")
            self._pull(remaining)

    def next_frame(self, timeout: float = WAIT_TIMEOUT) -> dict:
        """The next frame within ``timeout`` seconds (AssertionError otherwise)."""
        deadline = time.monotonic() + timeout
        while not self._frames:
            if self.ended:
                raise AssertionError(f"stream ended; last frames: {self.seen[-8:]}")
            if not self._pull(deadline - time.monotonic()):
                raise AssertionError(f"no frame within {timeout}s; last frames: {self.seen[-8:]}")
        frame = self._frames.popleft()
        self.seen.append(frame)
        return frame

    def wait_for(self, predicate, timeout: float = WAIT_TIMEOUT) -> dict:
        """Skip frames until one matches ``predicate``; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self.next_frame(max(0.0, deadline - time.monotonic()))
            if predicate(frame):
                return frame

    def read_to_end(self, timeout: float) -> list[dict]:
        """All frames until the server ends the stream (fails if it is still open)."""
        deadline = time.monotonic() + timeout
        frames = []
        while True:
            try:
                frames.append(self.next_frame(max(0.0, deadline - time.monotonic())))
            except AssertionError:
                if self.ended:
                    return frames
                raise

    def close(self) -> None:
        """Close the response (unsubscribes); waits briefly for a read in flight."""
        if self._pending is not None:
            try:
                self._pending.result(timeout=2)
                self._pending = None
            except Exception:  # still blocked: the app fixture's hub.stop() will end it
                pass
        if self._pending is None:
            self.response.close()
        self._pool.shutdown(wait=False)
        self._decoder.end()


def run_coroutine(coroutine, timeout: float | None = None):
    """``asyncio.run(coroutine)`` in a thread of its own, returning its result: Playwright's
    sync API (the browser tests, session-scoped, may share this process) leaves an event
    loop running in the main thread, where ``asyncio.run`` refuses to start."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=timeout)

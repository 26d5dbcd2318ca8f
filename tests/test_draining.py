"""Restarts never end a client's stream for good (docs/design.md §5b), against real gunicorn
and the shipped nginx: a draining worker answers stream requests with ``200
text/event-stream``, ``retry:`` and ``Connection: close`` and closes its idle keep-alive
connections; the ``eventsource`` npm package, a client we did not write, stays open across
a HUP and a SIGTERM + start, direct and through nginx (Chromium's EventSource:
tests/browser/test_restarts.py)."""

import json
import queue
import re
import selectors
import shutil
import socket
import subprocess
import threading
import time

import pytest

from tests.helpers import wait_until
from tests.servers import ROOT, USER_AGENT, Session
from tests.services_required import require

pytestmark = [pytest.mark.server, pytest.mark.services]
STREAM = "/admin/orders/stream"


def raw_request(path: str, cookie: str = "") -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: {USER_AGENT}\r\n"
        f"Cookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n"
    ).encode()


def read_until(sock: socket.socket, done, timeout: float = 20) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while not done(data) and time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            return data + b"<EOF>"
        data += chunk
    return data


def drained_answer(sock: socket.socket) -> bytes | None:
    """``/healthz`` asked on ``sock``: the whole answer if it closes the connection (a
    draining worker's), ``None`` if it keeps it open (the worker is not draining yet)."""
    sock.sendall(raw_request("/healthz"))
    answer = read_until(sock, lambda d: b'"ok"}' in d or d.endswith(b"<EOF>"))
    assert answer.startswith(b"HTTP/1.1 200"), answer
    if b"connection: close" not in answer.lower():
        return None
    if answer.endswith(b"<EOF>"):
        return answer
    return answer + read_until(sock, lambda d: d.endswith(b"<EOF>"))


def test_a_draining_worker_answers_streams_with_retry_and_closes_idle_connections(
    shared_db, servers
):
    url, shop = shared_db
    # Long enough that the probe below meets the drain before the idle close does.
    server = servers(url, workers=1, DRAIN_IDLE_SECONDS="2")
    admin = Session(server.base, shop.admin.username, shop.password)
    cookie = admin.cookie_header()
    with (
        socket.create_connection(("127.0.0.1", server.port)) as idle,
        socket.create_connection(("127.0.0.1", server.port)) as late,
        socket.create_connection(("127.0.0.1", server.port)) as busy,
    ):
        for sock in (idle, late):
            sock.sendall(raw_request("/healthz"))
            assert b'{"status":"ok"}' in read_until(sock, lambda d: b'"ok"}' in d)
        # A stream, and a second stream request pipelined behind it on the same connection:
        # gunicorn reads the second only once the first ends, on a worker draining by then.
        busy.sendall(raw_request(STREAM, cookie) + raw_request(STREAM, cookie))
        assert b"id: " in read_until(busy, lambda d: b"\nid: " in d)

        server.hup()
        # A request sent on an idle connection while the worker drains (as nginx may, until
        # its upstream keepalive_timeout) is answered, and its connection closes after it.
        # Asked again until the worker drains: the answers before that keep the connection.
        answer = wait_until(
            lambda: drained_answer(late), what="an answer from the draining worker"
        )
        assert answer.startswith(b"HTTP/1.1 200") and b"connection: close" in answer.lower()
        assert answer.endswith(b"<EOF>")
        ended = read_until(busy, lambda d: re.search(rb"retry: \d+\n", d) is not None)
        assert read_until(idle, lambda d: d.endswith(b"<EOF>")) == b"<EOF>", (
            "an idle keep-alive connection is closed DRAIN_IDLE_SECONDS after draining starts"
        )
        rest = ended + read_until(busy, lambda d: d.endswith(b"<EOF>"))
    assert rest.endswith(b"<EOF>"), "the connection closes after the draining answer"
    first, _, second = rest.partition(b"HTTP/1.1 ")
    ending = re.findall(rb"retry: (\d+)", first)
    assert ending and 100 <= int(ending[-1]) <= 150, "the open stream ended with its hint"
    head, _, body = second.partition(b"\r\n\r\n")
    assert head.startswith(b"200 OK"), head
    headers = head.decode().lower()
    assert "content-type: text/event-stream" in headers
    assert "connection: close" in headers
    assert body.startswith(b"retry: 100\n\n")
    wait_until(lambda: "draining: closed" in server.log(), what="the draining line logged")
    assert "draining: closed 1 idle connection(s)" in server.log()


def test_a_restart_ends_its_streams_spread_out_each_with_a_jittered_retry(shared_db, servers):
    """``SSE_SHUTDOWN_SPREAD_SECONDS``: the streams of a worker that a HUP replaces end one
    slice after another, not in one instant: a stream still receives heartbeats after
    another one has ended (the order of what the clients saw, not its timing); each ends
    with a ``retry:`` between ``SSE_RETRY_MS`` and 1.5 times it."""
    url, shop = shared_db
    server = servers(url, workers=1, SSE_SHUTDOWN_SPREAD_SECONDS="2")
    cookie = Session(server.base, shop.admin.username, shop.password).cookie_header()
    socks = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(8)]
    selector = selectors.DefaultSelector()
    try:
        for n, sock in enumerate(socks):
            sock.sendall(raw_request(STREAM, cookie))
            assert b"\nid: " in read_until(sock, lambda d: b"\nid: " in d)
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ, n)
        server.hup()
        seen: list[tuple] = []  # ("heartbeat" | "end", stream), in the order they arrived
        tails = dict.fromkeys(range(len(socks)), b"")
        deadline = time.monotonic() + 30
        while selector.get_map() and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=1):
                n = key.data
                chunk = key.fileobj.recv(65536)
                tails[n] += chunk
                seen += [("heartbeat", n)] * chunk.count(b": heartbeat")
                if not chunk or tails[n].endswith(b"\r\n0\r\n\r\n"):
                    seen.append(("end", n))
                    selector.unregister(key.fileobj)
    finally:
        selector.close()
        for sock in socks:
            sock.close()
    ends = [n for kind, n in seen if kind == "end"]
    assert sorted(ends) == list(range(len(socks))), f"every stream ended: {seen}"
    first_end = seen.index(("end", ends[0]))
    later = {n for kind, n in seen[first_end:] if kind == "heartbeat" and n != ends[0]}
    assert later, f"every stream ended at once: {seen}"
    retries = [int(re.findall(rb"retry: (\d+)", tails[n])[-1]) for n in ends]
    assert all(100 <= value <= 150 for value in retries), retries
    assert len(set(retries)) > 1, f"the same retry for every stream: {retries}"


class Watcher:
    """``tests/js/sse-watch.mjs`` (the ``eventsource`` package) on one stream URL."""

    def __init__(self, url: str, cookie: str):
        node = shutil.which("node")
        require("node", node is not None, "node not installed (apt install nodejs)")
        module = ROOT / "node_modules" / "eventsource"
        require("eventsource", module.exists(), "npm ci has not run (./test.sh runs it)")
        self.proc = subprocess.Popen(
            [node, str(ROOT / "tests/js/sse-watch.mjs"), url, cookie, USER_AGENT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.events: list[dict] = []
        self._queue: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._queue.put(json.loads(line))

    def wait(self, predicate, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self.events):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"not seen in {timeout}s; events: {self.events[-8:]}"
            try:
                self.events.append(self._queue.get(timeout=remaining))
            except queue.Empty:
                continue

    def opens(self) -> int:
        return sum(e["t"] == "open" for e in self.events)

    def reopened_with_a_frame(self, opens_before: int):
        """After more opens than ``opens_before``, a message arrived."""

        def check(events):
            opens = 0
            for event in events:
                opens += event["t"] == "open"
                if opens > opens_before and event["t"] == "message":
                    return True
            return False

        return check

    def finish(self) -> dict:
        self.proc.stdin.close()
        self.wait(lambda events: events and events[-1]["t"] == "end")
        self.proc.wait(10)
        return self.events[-1]


def test_eventsource_npm_stays_open_across_hup_and_term_direct_and_through_nginx(
    shared_db, servers, nginx
):
    url, shop = shared_db
    server = servers(url, workers=1)
    proxy = nginx(server.port)
    watchers = []
    for base in (server.base, proxy.base):
        session = Session(base, shop.admin.username, shop.password)
        watchers.append(Watcher(base + STREAM, session.cookie_header()))
    try:
        for watcher in watchers:
            watcher.wait(watcher.reopened_with_a_frame(0))
        for restart in (server.hup, server.restart):  # SIGTERM, a new start on the same port
            before = [watcher.opens() for watcher in watchers]
            restart()
            for watcher, opens in zip(watchers, before, strict=True):
                watcher.wait(watcher.reopened_with_a_frame(opens))
    finally:
        ends = [watcher.finish() for watcher in watchers]
    for watcher, end in zip(watchers, ends, strict=True):
        assert end["readyState"] != 2, "closed for good"
        assert not any(e.get("readyState") == 2 for e in watcher.events), watcher.events

"""A slow reader never loses a change silently (docs/design.md §5b: ended, never thinned).

A dashboard stream read over a 2 KB/s link while 20 orders a second are placed (for 2 s:
40 order frames against a queue of 16 and the link's few KB) falls behind its queue: the
server must end it (or send ``reset``), never drop frames and carry on, and its client
resumes from its own ``Last-Event-ID``. Each test compares the activity ids the client got
(``event: order`` frames, and the entries a resume frame carries) with those committed:
every one must arrive. Two clients: a raw-socket reader with strict HTTP/1.1 chunked
decoding, and the npm ``eventsource`` package (a client we did not write), each behind a
slow link (``tests/slow_link.py``) that speeds up once the orders stop, so the reader can
catch up and the comparison ends. Both tests share one server and its database (each
compares with the activity id and version it read first).
"""

import contextlib
import json
import queue
import shutil
import socket
import subprocess
import threading
import time

import pytest
import sqlalchemy as sa

from tests.servers import ROOT, USER_AGENT, Session
from tests.services_required import require
from tests.slow_link import SlowLink
from tests.sse_client import FrameDecoder

pytestmark = [pytest.mark.server, pytest.mark.services]

RATE = 20  # orders per second
SECONDS = 2.0  # of orders; the link reads 2 KB/s meanwhile
DEADLINE = 60.0  # generous bound for catching up; never a measured figure
# A small queue and send buffer make the overflow come within the test's few seconds;
# production's are larger, the rule is the same.
# Both tests' reconnects count against one admin's stream cap: room for them.
SERVER_ENV = {
    "SSE_EVENT_QUEUE_SIZE": "16",
    "SSE_SEND_BUFFER_BYTES": "4096",
    "SSE_MAX_STREAMS_PER_USER": "100",
}


@pytest.fixture(scope="module")
def slow_server(module_db, module_servers):
    """``(server, url, shop)``: one server for both readers."""
    url, shop = module_db
    return module_servers(url, **SERVER_ENV), url, shop


def activity_ids(database_url: str, after: int) -> set[int]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT id FROM order_activity WHERE id > :a"), {"a": after}
            )
            return {row[0] for row in rows}
    finally:
        engine.dispose()


def last_activity_id(database_url: str) -> int:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.text("SELECT coalesce(max(id), 0) FROM order_activity")
            ).scalar()
    finally:
        engine.dispose()


def place_orders(server, shop) -> None:
    """``RATE`` orders a second for ``SECONDS`` from two customers (paced, not a burst)."""
    buyers = [Session(server.base, who.username, shop.password) for who in (shop.alice, shop.bob)]
    count = int(RATE * SECONDS)
    started = time.monotonic()
    for i in range(count):
        buyers[i % 2].place_order(shop.products[1].id)
        time.sleep(max(0.0, started + (i + 1) / RATE - time.monotonic()))


class RawReader:
    """A raw-socket dashboard stream client: decodes HTTP/1.1 chunks strictly and reconnects
    with ``Last-Event-ID`` after every end of response, as EventSource does. Records the
    activity ids it received and counts reconnects, resets and connections cut mid-chunk."""

    def __init__(self, port: int, cookie: str, last_id: int):
        self.port, self.cookie, self.last_id = port, cookie, last_id
        self.activity: set[int] = set()
        self.connections = self.resets = self.cut_mid_chunk = self.framing_errors = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            with contextlib.suppress(OSError):  # a reset: reconnect, as EventSource does
                self._one_response()
            self.stop.wait(0.1)  # the server's retry: hint in these tests

    def _one_response(self) -> None:
        self.connections += 1
        decoder = FrameDecoder()  # httpx-sse: frames as a client we did not write reads them
        try:
            self._read_response(decoder)
        finally:
            decoder.end()

    def _read_response(self, decoder: FrameDecoder) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
            request = (
                f"GET /admin/orders/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Cookie: {self.cookie}\r\nUser-Agent: {USER_AGENT}\r\n"
                f"Accept: text/event-stream\r\nLast-Event-ID: {self.last_id}\r\n\r\n"
            )
            sock.sendall(request.encode())
            raw, headers_done = b"", False
            while not self.stop.is_set():
                try:
                    data = sock.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    self.cut_mid_chunk += bool(raw)
                    return
                raw += data
                if not headers_done:
                    head, sep, raw = raw.partition(b"\r\n\r\n")
                    if not sep:
                        raw = head
                        continue
                    assert head.split(b" ")[1] == b"200", head
                    headers_done = True
                while True:  # whole chunks only
                    size_line, sep, rest = raw.partition(b"\r\n")
                    if not sep:
                        break
                    try:
                        size = int(size_line, 16)
                    except ValueError:
                        self.framing_errors += 1
                        return
                    if len(rest) < size + 2:
                        break
                    if rest[size : size + 2] != b"\r\n":
                        self.framing_errors += 1
                        return
                    if size == 0:
                        return  # the end of this response: reconnect
                    self._frames(decoder.feed(rest[:size]))
                    raw = rest[size + 2 :]

    def _frames(self, frames: list[dict]) -> None:
        for frame in frames:
            if frame["data"] is None:
                continue
            body = json.loads(frame["data"])
            if frame["event"] == "order":
                self.activity.add(body["activity"]["id"])
            elif frame["event"] == "message":
                self.resets += body.get("type") == "reset"
                self.activity.update(entry["id"] for entry in body.get("activity", ()))
            if frame.get("id") is not None:
                self.last_id = int(frame["id"])


def test_a_raw_reader_at_2_kb_s_gets_every_change_or_resumes(slow_server):
    server, url, shop = slow_server
    admin = Session(server.base, shop.admin.username, shop.password)
    start_version, start_activity = admin.stats()["version"], last_activity_id(url)
    link = SlowLink(server.port, rate=2048)
    reader = RawReader(link.port, admin.cookie_header(), start_version)
    try:
        place_orders(server, shop)
        link.full_speed()
        final = admin.stats()["version"]
        deadline = time.monotonic() + DEADLINE
        while reader.last_id < final and time.monotonic() < deadline:
            time.sleep(0.05)
        committed = activity_ids(url, start_activity)
        missing = committed - reader.activity
    finally:
        reader.stop.set()
        reader.thread.join(10)
        link.close()
    assert len(committed) == int(RATE * SECONDS)
    assert reader.last_id >= final, "the reader never caught up"
    assert not missing, f"{len(missing)} changes never arrived and no reset said so"
    assert reader.connections > 1, "the link never fell behind: the test proved nothing"
    assert reader.framing_errors == 0


def test_the_eventsource_package_behind_a_slow_link_gets_every_change(slow_server):
    node = shutil.which("node")
    require("node", node is not None, "node not installed (apt install nodejs)")
    require("eventsource", (ROOT / "node_modules/eventsource").exists(), "run npm ci")
    server, url, shop = slow_server
    admin = Session(server.base, shop.admin.username, shop.password)
    start_version, start_activity = admin.stats()["version"], last_activity_id(url)
    link = SlowLink(server.port, rate=2048)
    stream_url = f"http://127.0.0.1:{link.port}/admin/orders/stream?last_event_id={start_version}"
    proc = subprocess.Popen(
        [
            node,
            str(ROOT / "tests/js/sse-record.mjs"),
            stream_url,
            admin.cookie_header(),
            USER_AGENT,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(json.loads(x)) for x in proc.stdout], daemon=True
    ).start()
    events: list[dict] = []
    try:
        place_orders(server, shop)
        link.full_speed()
        final = admin.stats()["version"]
        deadline = time.monotonic() + DEADLINE
        last_id = start_version
        while last_id < final and time.monotonic() < deadline:
            try:
                event = lines.get(timeout=0.5)
            except queue.Empty:
                continue
            events.append(event)
            if event.get("id"):
                last_id = int(event["id"])
        committed = activity_ids(url, start_activity)
    finally:
        proc.stdin.close()
        proc.wait(10)
        link.close()
    received = {e["activity"] for e in events if e["t"] == "order"}
    for event in events:
        if event["t"] == "message":
            received.update(event["activity"])
    resets = [e for e in events if e["t"] == "message" and e["type"] == "reset"]
    missing = committed - received
    assert last_id >= final, f"never caught up; last events {events[-5:]}"
    assert not missing, f"{len(missing)} changes never arrived and no reset said so"
    assert not resets  # within the resume window: a resume, never a reload
    assert sum(e["t"] == "open" for e in events) > 1, "never fell behind: the test proved nothing"

"""Dashboards as ``stream-source.js`` runs them, for the release-switch test and
``bench/restart_bench.py``: each holds one admin stream (aiohttp, through nginx), and when
it ends or fails waits 1 s (doubling to 30 s after failures) plus up to 0.5 s of jitter,
then reopens it with ``?last_event_id=`` its newest version. Any answer but ``200
text/event-stream`` is recorded: a plain EventSource would have closed for good on it
(HTML spec, "Server-sent events"). Every order id seen (``event: order`` frames and
the snapshots' ``recent_updates``) is stamped with the time it arrived.
"""

import asyncio
import contextlib
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp

BACKOFF_MIN, BACKOFF_MAX = 1.0, 30.0  # seconds, as dashboard/config.js
GRACE = 3.0  # LIVE_OFFLINE_GRACE_MS: a page without its stream this long turns red


@dataclass
class Dashboard:
    index: int
    seen: dict = field(default_factory=dict)  # order id -> monotonic time first seen
    version: int | None = None
    opened: int = 0  # streams that answered 200 text/event-stream
    down_since: float | None = None  # monotonic: the stream ended or failed
    longest_gap: float = 0.0  # the longest time without an open stream (s)


@dataclass
class Results:
    dashboards: list
    statuses: Counter = field(default_factory=Counter)  # non-200 answers by status
    connection_errors: int = 0

    def lag(self, placed: dict) -> list[float]:
        """Seconds from each order's 201 to each dashboard seeing it (inf: never)."""
        orders = [(oid, at) for oid, at in placed.items() if isinstance(oid, int)]
        return [d.seen.get(oid, float("inf")) - at for d in self.dashboards for oid, at in orders]


async def run_dashboard(http, base, cookie, dash, results, stop):
    backoff = BACKOFF_MIN
    while not stop.is_set():
        url = f"{base}/admin/orders/stream"
        if dash.version is not None:
            url += f"?last_event_id={dash.version}"
        headers = {"Cookie": cookie, "Accept": "text/event-stream", "User-Agent": UA}
        try:
            async with http.get(url, headers=headers) as response:
                kind = response.headers.get("Content-Type", "")
                if response.status != 200 or not kind.startswith("text/event-stream"):
                    results.statuses[response.status] += 1
                    await response.read()
                else:
                    dash.opened += 1
                    await _read(response, dash, stop)
                    backoff = BACKOFF_MIN
        except (TimeoutError, aiohttp.ClientError, ConnectionError):
            results.connection_errors += 1
        if dash.down_since is None:
            dash.down_since = time.monotonic()
        if stop.is_set():
            break
        delay = backoff + random.uniform(0, min(0.5, backoff * 0.5))
        backoff = min(backoff * 2, BACKOFF_MAX)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)


async def _read(response, dash, stop):
    event, data = "message", None
    async for raw in response.content:
        line = raw.decode().rstrip("\r\n")
        if line == "":
            if data is not None:
                _frame(dash, event, data)
            event, data = "message", None
            if stop.is_set():
                return
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "id" and value.isdigit():
            dash.version = int(value)
            if dash.down_since is not None:  # back: the first frame of a new stream
                dash.longest_gap = max(dash.longest_gap, time.monotonic() - dash.down_since)
                dash.down_since = None
        elif name == "event":
            event = value
        elif name == "data":
            data = value


def _frame(dash, event, data):
    now = time.monotonic()
    body = json.loads(data)
    if event == "order":
        ids = [body["order"]["id"]]
    elif event == "message":
        ids = [o["id"] for o in body.get("recent_updates", [])]
    else:
        return
    for oid in ids:
        dash.seen.setdefault(oid, now)


UA = "orderpulse-tests/1"


async def place_orders(base, cookie, csrf, placed, stop, every=0.25, product_id=1):
    """One order per ``every`` seconds until ``stop``; ``placed``: order id -> the time its
    201 arrived. Non-201 answers are counted in ``placed["errors"]`` (a Counter)."""
    errors = placed.setdefault("errors", Counter())
    body = {"items": [{"product_id": product_id, "quantity": 1}], "delivery_method": "pickup"}
    headers = {"Cookie": cookie, "X-CSRFToken": csrf, "User-Agent": UA}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        while not stop.is_set():
            try:
                async with http.post(f"{base}/api/orders", json=body, headers=headers) as r:
                    text = await r.text()
                    if r.status == 201:
                        placed[json.loads(text)["order"]["id"]] = time.monotonic()
                    else:
                        errors[r.status] += 1
            except (TimeoutError, aiohttp.ClientError):
                errors["connection"] += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)


def connector(source: str) -> aiohttp.TCPConnector:
    """Connections from ``source`` (127.0.0.x: the proxy's per-address stream cap is 50)."""
    return aiohttp.TCPConnector(limit=0, local_addr=(source, 0), force_close=True)

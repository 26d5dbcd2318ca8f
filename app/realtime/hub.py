"""The per-worker hub: wakes on publish, coalesces bursts, reads the counts once per tick and
fans the same encoded frame out to every open stream (DESIGN.md §1).

One background thread per process runs the loop; under gunicorn's gevent worker the
``threading`` module is monkey-patched, so it is a greenlet and streams are greenlets too.
"""

import logging
import threading
import time

from flask import Flask

from app.extensions import release_session
from app.metrics import DELIVERY_LAG, FRAMES_SENT
from app.realtime import sse
from app.realtime.registry import Draining, StreamRegistry, TooManyStreams
from app.realtime.snapshots import Snapshots
from app.realtime.subscription import Subscription
from app.services.counts import read_version
from app.services.serializers import order_tracking

__all__ = ["Draining", "Hub", "TooManyStreams"]

log = logging.getLogger(__name__)

# Streams served between two yields to the event loop during one fan-out.
FANOUT_BATCH = 500


class Hub(StreamRegistry):
    """Fan-out of order changes to open SSE streams in this process.

    ``notify(events)`` is called after commit (by the backend); the loop then builds one
    snapshot frame (``id:`` = ``order_counts`` version) and one ``event: order`` frame per
    event, and offers them to every subscription. Config keys (seconds):
    ``HUB_COALESCE_SECONDS``, ``HUB_VERSION_POLL_SECONDS``, ``HUB_HOUSEKEEPING_SECONDS``,
    ``SSE_HEARTBEAT_SECONDS``, ``SSE_LIFETIME_SECONDS`` (+ ``_JITTER_SECONDS``).
    """

    def __init__(self, app: Flask):
        super().__init__(app.config)
        self.app = app
        self.backend = None
        self.snapshots = Snapshots(app.config)
        self._pending: list[dict] = []
        self._dirty = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._version = -1  # version of the last broadcast snapshot

    # -- streams -----------------------------------------------------------------------
    def subscribe_admin(self, user_id: int | None = None) -> Subscription:
        """Open an admin stream; its first frame is the full snapshot (``type: initial``).

        Must be called inside a request (it reads the counts once, O(1)); the caller then
        releases its DB session before streaming. Raises ``TooManyStreams`` (429).
        """
        sub = self._new_subscription(user_id)
        # Register before reading: a tick between the two then lands in this stream's queue
        # (after the initial frame, see offer_first) instead of being lost.
        self._register_admin(sub)
        sub.offer_first(self.snapshots.initial())
        self._ensure_running()
        return sub

    def subscribe_order(self, order, user_id: int | None = None) -> Subscription:
        """Open a single-order stream that starts with the order's tracking state.
        Raises ``TooManyStreams`` (429)."""
        sub = self._new_subscription(user_id, order.id)
        self._register_order(sub)
        state = order_tracking(order)
        sub.last = (state["status"], state["cancelled"])
        sub.offer_first(sse.encode({"type": "initial", **state}))
        self._ensure_running()
        return sub

    # -- publishing --------------------------------------------------------------------
    def publish(self, events: list[dict]) -> None:
        """Called after commit with the transaction's order events; goes through the backend
        (in-process, or Redis so every worker's hub hears it)."""
        self.backend.publish(events)

    def notify(self, events: list[dict] = ()) -> None:
        """Wake the loop: something changed (``events`` may be empty for "resync").

        With no loop running (no streams, or a CLI process) there is nobody to tell, so the
        events are dropped rather than piling up; a new stream reads a fresh snapshot.
        """
        if self._thread is None or not self._thread.is_alive():
            return
        with self._lock:
            self._pending.extend(events)
        self._dirty.set()

    # -- loop --------------------------------------------------------------------------
    def _ensure_running(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="realtime-hub", daemon=True)
            self._thread.start()
        self.backend.start()

    def stop(self, close_streams: bool = True) -> None:
        """Stop the loop (tests, worker exit); open streams end with their ``retry:`` hint."""
        self._stopping = True
        self._dirty.set()
        if close_streams:
            self.close_streams()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.backend.stop()

    def _run(self) -> None:
        config = self.config
        coalesce = config["HUB_COALESCE_SECONDS"]
        poll_every = config["HUB_VERSION_POLL_SECONDS"]
        housekeeping = config["HUB_HOUSEKEEPING_SECONDS"]
        heartbeat_every = config["SSE_HEARTBEAT_SECONDS"]
        now = time.monotonic()
        last_tick = 0.0
        next_poll = now + poll_every
        next_heartbeat = now + heartbeat_every
        next_expiry = now + housekeeping
        with self.app.app_context():
            while not self._stopping:
                timeout = max(0.0, min(next_poll, next_heartbeat) - time.monotonic())
                woke = self._dirty.wait(min(timeout, housekeeping))
                if self._stopping:
                    break
                now = time.monotonic()
                try:
                    if woke:
                        # Leading edge goes out at once; a burst right after waits out the
                        # window and then goes out as one tick.
                        wait = last_tick + coalesce - now
                        if wait > 0:
                            time.sleep(wait)
                        self._dirty.clear()
                        self._tick()
                        last_tick = time.monotonic()
                    elif now >= next_poll:
                        next_poll = now + poll_every
                        if self.stream_count and read_version() != self._version:
                            self._tick()  # a commit from another process
                            last_tick = time.monotonic()
                except Exception:  # the loop must outlive a database hiccup
                    log.exception("realtime hub tick failed; retrying on the next change")
                    time.sleep(min(1.0, poll_every))
                    self._dirty.set()
                finally:
                    release_session()  # survives a connection the database killed
                if now >= next_heartbeat:
                    next_heartbeat = now + heartbeat_every
                    self._broadcast([sse.HEARTBEAT], None, include_orders=True)
                # Lifetimes are checked per housekeeping interval, not on every wake: the
                # scan walks every stream, and a burst of commits wakes the loop often.
                if now >= next_expiry:
                    next_expiry = now + housekeeping
                    self._expire(now)

    def _tick(self) -> None:
        with self._lock:
            events, self._pending = self._pending, []
        version, frame, recent = self.snapshots.frame("update")
        event_frames = [sse.encode(e["order_event"], event="order") for e in events]
        snapshot = frame if version != self._version else None
        self._version = version
        if event_frames or snapshot:
            self._broadcast(event_frames, snapshot)
        now = time.time()
        for event in events:
            if "published_at" in event:
                DELIVERY_LAG.observe(max(0.0, now - event["published_at"]))
        self._dispatch_tracking(events, recent)

    def _broadcast(
        self, events: list[bytes], snapshot: bytes | None, include_orders=False
    ) -> None:
        with self._lock:
            subs = list(self._admins)
            if include_orders:
                for watchers in self._orders.values():
                    subs.extend(watchers)
        # Framed once for every stream in direct mode (see subscription.py).
        chunk = sse.chunk(b"".join(events) + (snapshot or b""))
        started = time.perf_counter()
        for done, sub in enumerate(subs, 1):
            sub.offer(events, snapshot, chunk)
            if done % FANOUT_BATCH == 0:
                time.sleep(0)  # let requests run during a long fan-out (gevent: a yield)
        FRAMES_SENT.inc(len(subs))
        took = time.perf_counter() - started
        log.debug("fan-out to %d streams took %.1f ms", len(subs), took * 1e3)

    def _dispatch_tracking(self, events: list[dict], recent) -> None:
        if not self._orders:
            return
        states = {e["order_id"]: e["tracking"] for e in events}
        for order in recent:  # commits from other processes arrive only this way
            if order.id in self._orders and order.id not in states:
                states[order.id] = order_tracking(order)
        for order_id, state in states.items():
            watchers = self._watchers(order_id)
            if not watchers:
                continue
            frame = sse.encode({"type": "update", **state})
            chunk = sse.chunk(frame)
            for sub in watchers:
                if sub.last != (state["status"], state["cancelled"]):
                    sub.last = (state["status"], state["cancelled"])
                    sub.offer([frame], None, chunk)

    def _expire(self, now: float) -> None:
        for sub in self._all_subs():
            if (sub.deadline <= now or sub.dead) and not sub.closed:
                sub.close()

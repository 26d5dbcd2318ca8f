"""The per-worker hub: wakes on publish, coalesces bursts, reads the database once per tick
and fans the same encoded frames out to every open stream (docs/design.md §1).

One background thread per process runs the loop; under gunicorn's gevent worker the
``threading`` module is monkey-patched, so it is a greenlet and streams are greenlets too.
"""

import logging
import threading
import time

from flask import Flask

from app.extensions import release_session
from app.metrics import DELIVERY_LAG, FRAMES_SENT, STREAM_STARTS, start_kind
from app.outages import DATABASE, unreachable
from app.realtime import sse
from app.realtime.direct import fan_out
from app.realtime.expiry import ExpiryWalk
from app.realtime.frames import DashboardState
from app.realtime.presence import Presence
from app.realtime.registry import Draining, StreamRegistry, TooManyStreams
from app.realtime.revocation import apply_revocations, revalidate
from app.realtime.schedule import ErrorLog, Schedule
from app.realtime.subscription import CATALOGUE, Subscription
from app.realtime.tracking import dispatch_tracking, serve_watchers
from app.services.counts import read_version

__all__ = ["Draining", "Hub", "TooManyStreams"]

log = logging.getLogger(__name__)


# Streams served between two yields to the event loop during one fan-out.
FANOUT_BATCH = 500
# Under a steady stream of changes the loop spends at most this share of its time ticking:
# after a tick that took t seconds, the next waits t × (1 / share - 1), never more than
# HUB_COALESCE_SECONDS. A lone change finds the loop idle and goes out at once; changes
# that arrive faster than ticks can be sent share the next one (see ``coalescing_gap``).
BUSY_SHARE = 0.5


def coalescing_gap(tick_seconds: float, ceiling: float) -> float:
    """Seconds to wait after a tick that took ``tick_seconds`` before the next one, if
    changes are waiting: as long as the tick itself (half the loop's time) and at most
    ``ceiling`` (``HUB_COALESCE_SECONDS``). A cheap tick (few streams) lets every change go
    out on its own; a costly one (a fan-out to 10,000 streams) batches what arrives
    meanwhile, so the loop keeps up at any commit rate."""
    return min(ceiling, max(0.0, tick_seconds) * (1 / BUSY_SHARE - 1))


class Hub:
    """Fan-out of order changes to the open SSE streams of this process.

    The backend (in-process, Redis, or PostgreSQL ``LISTEN``) calls ``on_message`` with
    what other transactions committed; the loop then reads the new state once
    (``DashboardState.refresh``) and offers the same frames to every stream. New streams
    wait in the registry until the loop sends their first frame. Streams of sessions that
    end (``revoke`` messages, or found by the periodic re-validation) close with an
    ``event: revoked`` frame. Changes coalesce adaptively (``coalescing_gap``): a lone one
    goes out at once, a burst shares ticks. Config keys (seconds): ``HUB_COALESCE_SECONDS``
    (the longest wait between two ticks),
    ``HUB_VERSION_POLL_SECONDS``, ``HUB_HOUSEKEEPING_SECONDS``, ``SSE_HEARTBEAT_SECONDS``,
    ``SSE_REVALIDATE_SECONDS``; the registry's, the state's and presence's keys.

    Presence (``app.realtime.presence``): the sessions whose dashboard streams are open
    here are announced through the backend, and every change of the cluster's table goes
    to the dashboard streams as one ``event: presence`` frame.
    """

    def __init__(self, app: Flask, backend_factory):
        self.app = app
        self.config = app.config
        self.registry = StreamRegistry(app.config)
        self._expiry = ExpiryWalk(self.registry.all, app.config["SSE_WRITE_TIMEOUT_SECONDS"])
        self.state = DashboardState(app.config)
        self.backend = backend_factory(self)
        # The per-worker cache of valid sessions hears the same revoke messages as the
        # streams (app/services/session_cache.py), and caches only while they can arrive.
        self.sessions = app.extensions["session_cache"]
        self.sessions.listening = self.backend.is_listening
        self.presence = Presence(app.config, lambda messages: self.backend.send(messages))
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._changed = False
        self._published: list[float] = []  # publish times not yet delivered (lag metric)
        self._revocations: list[dict] = []
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._errors = ErrorLog(log, "realtime hub tick failed")
        self._sessions_seen = -1  # the registry's sessions_version presence last saw

    # -- streams -------------------------------------------------------------------------
    @property
    def stream_count(self) -> int:
        """Open streams in this process."""
        return self.registry.count

    def open_admin(
        self, user_id=None, session_id=None, since=None, username="", focus=None
    ) -> Subscription:
        """Open a dashboard stream. Its first frame, sent by the loop, is the snapshot for a
        fresh page (``since`` ``None``), what changed since version ``since``, or a reset;
        then the current ``event: presence`` frame. ``focus`` ``(order id, action)`` is the
        page's open dialog (``(None, None)``: none; ``None``: not said). Touches no
        database. Raises ``TooManyStreams`` (429), ``Draining`` (503)."""
        sub = self.registry.open(user_id, session_id, since=since, username=username)
        if focus is not None:
            self.presence.focus(user_id, username, session_id, *focus)
        self._start_and_wake()
        return sub

    def open_order(self, order_id: int, user_id=None, session_id=None) -> Subscription:
        """Open a customer's single-order stream; its first frame is the order's tracking
        state. Raises ``TooManyStreams`` (429), ``Draining`` (503)."""
        sub = self.registry.open(user_id, session_id, order_id=order_id)
        self._start_and_wake()
        return sub

    def open_catalogue(self, user_id=None, session_id=None, since=None) -> Subscription:
        """Open a storefront's stock stream (anyone, signed in or not): its first frame has
        the products changed since version ``since`` (the page's), then ``type: "stock"``
        frames as stock moves. Raises ``TooManyStreams`` (429), ``Draining`` (503)."""
        sub = self.registry.open(user_id, session_id, order_id=CATALOGUE, since=since)
        self._start_and_wake()
        return sub

    def close(self, sub: Subscription) -> None:
        """Forget a stream whose response closed (idempotent)."""
        self.registry.remove(sub)
        if sub.order_id is None:
            self._wake.set()  # presence: its session may have left this worker

    def close_streams(self, drain: bool = False) -> int:
        """End every open stream with its ``retry:`` hint; ``drain`` refuses new ones."""
        return self.registry.close_all(drain)

    # -- messages ------------------------------------------------------------------------
    def publish(self, changes: list[dict]) -> None:
        """Called after a commit with its outbox (``app.services.outbox``); goes through the
        backend so that every worker's hub hears it."""
        now = time.time()
        self.backend.publish([{**change, "published_at": now} for change in changes])

    def on_message(self, changes: list[dict]) -> None:
        """From the backend: ``orders`` changes and ``resync`` make the loop read the
        database; ``revoke`` ends the matching streams. Dropped while no loop runs (no
        streams here: a new one reads fresh state anyway), but the session cache's first."""
        self.sessions.apply(changes)
        if self._thread is None or not self._thread.is_alive():
            return
        with self._lock:
            for change in changes:
                kind = change.get("type")
                if kind == "revoke":
                    self._revocations.append(change)
                elif kind == "presence":
                    self.presence.receive([change])
                elif kind in ("orders", "resync"):
                    self._changed = True
                    if kind == "resync":
                        self.presence.hello()
                    if change.get("published_at"):
                        self._published.append(change["published_at"])
        self._wake.set()

    # -- loop ----------------------------------------------------------------------------
    def _start_and_wake(self) -> None:
        started = False
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._stopping = False
                    self._thread = threading.Thread(
                        target=self._run, name="realtime-hub", daemon=True
                    )
                    self._thread.start()
                    started = True
        if started:  # outside the lock: a backend may call on_message at once
            self.backend.start()
        self._wake.set()

    def stop(self, close_streams: bool = True) -> None:
        """Stop the loop (tests, worker exit); open streams end with their ``retry:`` hint."""
        self._stopping = True
        self._wake.set()
        if close_streams:
            self.close_streams()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.backend.stop()
        self.sessions.clear()  # no revoke message reaches it any more

    def _run(self) -> None:
        config = self.config
        coalesce = config["HUB_COALESCE_SECONDS"]
        schedule = Schedule(
            time.monotonic(),
            poll=config["HUB_VERSION_POLL_SECONDS"],
            heartbeat=config["SSE_HEARTBEAT_SECONDS"],
            housekeeping=config["HUB_HOUSEKEEPING_SECONDS"],
            revalidate=config["SSE_REVALIDATE_SECONDS"],
        )
        last_tick = float("-inf")
        gap = 0.0  # coalescing_gap of the last tick
        with self.app.app_context():
            while not self._stopping:
                now = time.monotonic()
                ready = self.presence.deadline()
                if self._changed:
                    ready = min(ready, last_tick + gap)
                if self._wake.wait(schedule.timeout(now, ready)):
                    self._wake.clear()
                if self._stopping:
                    break
                now = time.monotonic()
                poll = schedule.due("poll", now)
                # Before the re-validation: a revoke names why the session ended.
                with self._lock:
                    revocations, self._revocations = self._revocations, []
                apply_revocations(self.registry, revocations)
                try:
                    # A change that finds the loop idle goes out at once; what arrives
                    # during a tick (or the gap after it) goes out together in the next.
                    if self._changed and now >= last_tick + gap:
                        self._changed = False
                        self._tick()
                        last_tick = time.monotonic()
                        gap = coalescing_gap(last_tick - now, coalesce)
                    elif poll and self.registry.count and read_version() != self.state.version:
                        self._tick()  # a commit no message told us about
                        last_tick = time.monotonic()
                        gap = coalescing_gap(last_tick - now, coalesce)
                    if self.registry.has_pending():
                        self._serve_pending()
                    if schedule.due("revalidate", now):
                        revalidate(self.registry)
                    self._step_presence()
                    self._errors.recovered()
                except Exception as exc:  # the loop must outlive a database outage
                    if unreachable(exc):  # one line per outage, not a traceback a minute
                        DATABASE.failed(exc, "realtime hub")
                    else:
                        self._errors.report()
                    self._changed = True
                    self._wake.wait(min(1.0, config["HUB_VERSION_POLL_SECONDS"]))
                finally:
                    release_session()  # survives a connection the database killed
                if schedule.due("heartbeat", now):
                    self._broadcast([sse.HEARTBEAT], None, include_orders=True)
                if schedule.due("housekeeping", now):
                    self._expiry.step(now)

    def _step_presence(self) -> None:
        local = self.registry.admin_sessions(self._sessions_seen)
        if local is not None:
            self._sessions_seen, local = local
        frame = self.presence.step(time.monotonic(), local)
        if frame is not None:  # encoded once, like every frame: O(admins) per change
            self._fan_out(self.registry.admins(), sse.chunk(frame), presence=frame)

    def _tick(self) -> None:
        tick = self.state.refresh()
        with self._lock:
            published, self._published = self._published, []
        if tick.events or tick.snapshot:
            self._broadcast(tick.events, tick.snapshot)
        now = time.time()
        for moment in published:
            DELIVERY_LAG.observe(max(0.0, now - moment))
        if tick.tracking or tick.balances:
            dispatch_tracking(self.registry, tick)
        if tick.stock:
            chunk = sse.chunk(tick.stock)
            for sub in self.registry.watchers(CATALOGUE):
                sub.offer([tick.stock], None, chunk)
        if tick.recount:
            views = self.state.views_frame()
            if views:
                self._broadcast([views], None)

    def _serve_pending(self) -> None:
        """Send each waiting stream its first frame (one frame per distinct version asked
        for), then let it receive broadcasts."""
        pending = [sub for sub in self.registry.pending() if not sub.closed]
        admins = [sub for sub in pending if sub.order_id is None]
        # The state must be read before any stream receives broadcasts: ticks send what
        # changed since it.
        if self.state.version < 0 or any(self.state.needs_refresh_for(s.since) for s in admins):
            self._tick()
        chunks: dict = {}
        presence = self.presence.frame() if admins else b""
        for sub in admins:
            key = sub.since if isinstance(sub.since, int) or sub.since is None else "x"
            if key not in chunks:
                frame = self.state.first_frame(sub.since)
                chunks[key] = (frame, sse.chunk(frame + presence))
            frame, chunk = chunks[key]
            STREAM_STARTS.labels(start_kind(sub.since, frame)).inc()
            sub.offer([frame], None, chunk, presence=presence)
            self.registry.activate(sub)
        storefronts = [sub for sub in pending if sub.order_id == CATALOGUE]
        frames: dict = {}
        for sub in storefronts:
            if sub.since not in frames:
                frame = self.state.catalogue_frame(sub.since)
                frames[sub.since] = (frame, sse.chunk(frame))
            frame, chunk = frames[sub.since]
            sub.offer([frame], None, chunk)
            self.registry.activate(sub)
        watchers = [sub for sub in pending if sub.order_id not in (None, CATALOGUE)]
        if watchers:
            serve_watchers(self.registry, watchers)

    def _broadcast(
        self, events: list[bytes], snapshot: bytes | None, include_orders=False
    ) -> None:
        subs = self.registry.admins()
        if include_orders:
            for order_id in self.registry.watched_orders():
                subs.extend(self.registry.watchers(order_id))
        # Framed once for every stream in direct mode (see subscription.py).
        chunk = sse.chunk(b"".join(events) + (snapshot or b""))
        self._fan_out(subs, chunk, events, snapshot)

    def _fan_out(self, subs, chunk: bytes, events=(), snapshot=None, presence=None) -> None:
        started = time.perf_counter()
        frames = (events, snapshot, chunk, presence)
        for first in range(0, len(subs), FANOUT_BATCH):
            if first:
                time.sleep(0)  # let requests run during a long fan-out (gevent: a yield)
            fan_out(subs[first : first + FANOUT_BATCH], chunk, frames)
        FRAMES_SENT.inc(len(subs))
        took = time.perf_counter() - started
        log.debug("fan-out to %d streams took %.1f ms", len(subs), took * 1e3)

"""Snapshot frames: the stats (one O(1) read of ``order_counts``) plus recent orders,
encoded once for every stream."""

import time

from app.models._time import isoformat, utcnow
from app.realtime import sse
from app.services.counts import read_stats, read_version
from app.services.feed import recent_orders
from app.services.serializers import order_summary

# An order's updated_at is set before its commit; a tick may run between the two, so each
# update frame looks this far back past the previous tick (duplicates are harmless upserts).
UPDATE_OVERLAP_SECONDS = 2.0


class Snapshots:
    """Builds ``initial`` and ``update`` frames; caches the initial one per version."""

    def __init__(self, config):
        self.config = config
        self._initial: tuple[int, bytes] | None = None  # (version, frame) for new streams
        self._last_update: float | None = None  # monotonic time of the last update tick

    def initial(self) -> bytes:
        """The snapshot frame for a new stream: cached while the version is unchanged, so a
        reconnect storm costs one primary-key read per stream."""
        version = read_version()
        cached = self._initial
        if cached and cached[0] == version:
            return cached[1]
        return self.frame("initial")[1]

    def frame(self, kind: str) -> tuple[int, bytes, list]:
        """``(version, frame, orders)``. An ``initial`` frame lists every order changed in
        the last ``RECENT_UPDATES_SECONDS``; an ``update`` frame only those changed since the
        previous tick (plus a small overlap for commits that finish late), so frames stay
        small however many orders move: clients merge them into what they have."""
        stats = read_stats()
        window = self.config["RECENT_UPDATES_SECONDS"]
        now = time.monotonic()
        if kind == "update" and self._last_update is not None:
            window = min(window, now - self._last_update + UPDATE_OVERLAP_SECONDS)
        if kind == "update":
            self._last_update = now
        recent = recent_orders(window)
        body = {
            "type": kind,
            **stats,
            "recent_updates": [order_summary(o) for o in recent],
            "timestamp": isoformat(utcnow()),
        }
        frame = sse.encode(body, id=stats["version"])
        if kind == "initial":
            self._initial = (stats["version"], frame)
        return stats["version"], frame, recent

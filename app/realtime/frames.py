"""What the dashboard streams carry, read from the database once per version and encoded
once for every stream (docs/design.md §1, §4).

``DashboardState`` keeps what the hub last broadcast: the stats (with their version) and
the revenue buckets of the last 48 hours. ``refresh`` reads them again (one query for the
counters; when the version moved, one for the change log and one for the buckets) and
returns what changed, as frames. First frames for new streams are built from the same
state: a fresh page's ``initial``, a resume's ``initial`` with what changed since the
client's ``Last-Event-ID``, or a ``reset`` beyond the resume window, each cached for the
version so that a reconnect storm costs no query per stream.
"""

from collections import OrderedDict
from dataclasses import dataclass, field

from app.models import BUCKET_SECONDS, INTERNAL_KINDS
from app.models.timestamps import isoformat, utcnow
from app.realtime import sse
from app.services import revenue, saved_views, stock
from app.services.activity import recent_activity
from app.services.changes import changes_since, event_body, missed
from app.services.counts import read_stats
from app.services.feed import recent_orders
from app.services.serializers import order_summary, order_tracking

RECENT_ACTIVITY = 20  # entries in a fresh page's first frame
RESUME_CACHE = 32  # resume frames kept per version (one per distinct Last-Event-ID)
# Kinds after which every saved view matches what it matched before.
NO_VIEW_CHANGE = {"note", "note_edited", "note_deleted", "refunded"}


@dataclass
class Tick:
    """What one refresh found: frames for the admin streams (``events``: one ``event:
    order`` frame per change; ``snapshot``: the ``update`` frame or ``None`` when the
    version did not move), per changed order (internal changes left out) the tracking
    frame for its watchers and its customer's balance, the storefronts' stock frame, and
    whether the saved views need counting again."""

    events: list[bytes] = field(default_factory=list)
    snapshot: bytes | None = None
    tracking: dict[int, tuple[dict, int]] = field(default_factory=dict)  # (state, customer id)
    balances: dict[int, int] = field(default_factory=dict)
    stock: bytes | None = None  # the storefronts' ``type: "stock"`` frame, if stock moved
    recount: bool = False  # the saved views' counts may have moved (``views_frame``)


class DashboardState:
    """The last broadcast state of one worker, and the frames built from it.

    Config keys: ``RECENT_UPDATES_SECONDS`` (a fresh page's recent orders),
    ``SSE_RESUME_MAX_VERSIONS`` and ``SSE_RESUME_MAX_SECONDS`` (the resume window: a client
    further behind gets a ``reset``).
    """

    def __init__(self, config):
        self.config = config
        self.version = -1  # nothing read yet
        self.stats: dict = {}
        self.buckets: dict[int, tuple[int, int]] = {}
        self.view_counts: dict[int, int] = {}
        self._fresh: bytes | None = None
        self._reset: bytes | None = None
        self._resumes: OrderedDict[int, bytes] = OrderedDict()

    # -- reading ---------------------------------------------------------------------------
    def refresh(self) -> Tick:
        """Read the counters; if their version moved, read what changed since the last
        refresh (the change log, so commits of other processes are included) and the
        revenue buckets. Must run in an app context."""
        stats = read_stats()
        tick = Tick()
        if stats["version"] == self.version:
            return tick
        first = self.version < 0
        changes = [] if first else changes_since(self.version, stats["version"], limit=100_000)
        buckets = _window()
        changed_buckets = [
            [start, *value] for start, value in buckets.items() if self.buckets.get(start) != value
        ]
        previous = self.version
        self._set(stats, buckets)
        if first:
            self.view_counts = saved_views.counts()
            return tick
        summaries: dict[int, dict] = {}
        for change in changes or ():
            order_event = event_body(change)
            summaries[change.order.id] = order_event["order"]
            tick.events.append(sse.encode(order_event, event="order"))
            if change.activity.kind in INTERNAL_KINDS:
                continue  # admins only: nothing of it reaches the customer's page
            state = {
                **order_tracking(change.order),
                "balance": change.customer.credits,
                "activity": order_event["activity"],
            }
            tick.tracking[change.order.id] = (state, change.customer.id)
            tick.balances[change.customer.id] = change.customer.credits
        kinds = {change.activity.kind for change in changes or ()}
        tick.recount = not kinds or not kinds <= NO_VIEW_CHANGE
        stock_changes = stock.changed_between(previous, stats["version"])
        if stock_changes:
            body = {"type": "stock", "version": stats["version"], "products": stock_changes}
            tick.stock = sse.encode(body, id=stats["version"])
        body = {
            "type": "update",
            **stats,
            "recent_updates": list(summaries.values()),
            "revenue": _revenue(changed_buckets),
            "timestamp": isoformat(utcnow()),
        }
        tick.snapshot = sse.encode(body, id=stats["version"])
        return tick

    def views_frame(self) -> bytes | None:
        """After a tick that could have moved a saved view's count (``Tick.recount``: an
        order placed, moved, cancelled or tagged, or a change with no order, such as a view
        saved or deleted; notes and refunds match no other view than before): count every
        saved view again (one ``COUNT`` each) and return ``event: views`` ``{counts: {view
        id: n}}`` when a number moved, else ``None``. The hub sends it after the tick's
        order frames, so counting never delays them."""
        found = saved_views.counts()
        if found == self.view_counts:
            return None
        self.view_counts = found
        return sse.encode({"counts": found}, event="views")

    def _set(self, stats: dict, buckets: dict) -> None:
        self.version = stats["version"]
        self.stats = stats
        self.buckets = buckets
        self._fresh = self._reset = None
        self._resumes.clear()

    # -- first frames ------------------------------------------------------------------------
    def needs_refresh_for(self, since) -> bool:
        """A client claims a version newer than ours: another worker or host may already
        have broadcast it, so read the database before calling it a future id."""
        return self.version < 0 or (isinstance(since, int) and since > self.version)

    def first_frame(self, since) -> bytes:
        """The first frame for a stream whose client has version ``since`` (``None``: a
        fresh page; ``Subscription.RESET``: an id that is no version). Built at most once
        per version and ``since``; may query (the change log) on a cache miss."""
        if since is None:
            if self._fresh is None:
                recent = recent_orders(self.config["RECENT_UPDATES_SECONDS"])
                self._fresh = self._initial(
                    [order_summary(o) for o in recent],
                    list(reversed(recent_activity(RECENT_ACTIVITY))),
                    resumed_from=None,
                )
            return self._fresh
        if not isinstance(since, int) or since > self.version:
            return self.reset_frame()
        frame = self._resumes.get(since)
        if frame is None:
            frame = self._resume(since)
            self._resumes[since] = frame
            while len(self._resumes) > RESUME_CACHE:
                self._resumes.popitem(last=False)
        return frame

    def catalogue_frame(self, since) -> bytes:
        """A storefront's first frame: ``{type: "initial", version, products:
        [availability]}`` with the products changed since the version its page was read at
        (``since``; ``None``: every product ever changed). One index range per distinct
        ``since`` of a batch of new streams."""
        after = since if isinstance(since, int) and since <= self.version else 0
        products = stock.changed_between(after, self.version)
        body = {"type": "initial", "version": self.version, "products": products}
        return sse.encode(body, id=self.version)

    def reset_frame(self) -> bytes:
        """``type: "reset"``: the client is beyond the resume window (or sent an unknown or
        future id) and must reload its data with one request."""
        if self._reset is None:
            body = {
                "type": "reset",
                **self.stats,
                "heartbeat_ms": self._heartbeat_ms(),
                "timestamp": isoformat(utcnow()),
            }
            self._reset = sse.encode(body, id=self.version)
        return self._reset

    def _resume(self, since: int) -> bytes:
        if since == self.version:  # the usual reconnect: nothing missed, nothing to read
            return self._initial([], [], resumed_from=since)
        window = self.config["SSE_RESUME_MAX_VERSIONS"], self.config["SSE_RESUME_MAX_SECONDS"]
        found = missed(since, self.version, *window)
        if found is None:
            return self.reset_frame()
        orders, activity = found
        return self._initial(orders, activity, resumed_from=since)

    def _initial(self, orders: list[dict], activity: list[dict], resumed_from) -> bytes:
        body = {
            "type": "initial",
            **self.stats,
            "recent_updates": orders,
            "activity": activity,
            "revenue": _revenue([[s, *v] for s, v in sorted(self.buckets.items())]),
            "resumed_from": resumed_from,
            "heartbeat_ms": self._heartbeat_ms(),
            "view_counts": self.view_counts,
            "timestamp": isoformat(utcnow()),
        }
        return sse.encode(body, id=self.version)

    def _heartbeat_ms(self) -> int:
        """``SSE_HEARTBEAT_SECONDS`` in ms: the page's watchdog counts a link silent for
        two of them as dead (docs/design.md §5a), whatever this server is set to."""
        return round(self.config["SSE_HEARTBEAT_SECONDS"] * 1000)


def _window() -> dict[int, tuple[int, int, int]]:
    return {start: (rev, n, c) for start, rev, n, c in revenue.window()}


def _revenue(buckets: list[list[int]]) -> dict:
    """``{bucket_seconds: 900, buckets: [[start (Unix s), revenue (credits), orders,
    cancelled]]}`` (``app/services/revenue.py``):
    zone-agnostic, so each page sums them into the hours of whatever zone it shows."""
    return {"bucket_seconds": BUCKET_SECONDS, "buckets": buckets}

"""The dashboard's data in one request: what the page starts from (``view``) and what a
page that polls instead of streaming missed (``since``). The shapes are the stream's
(docs/design.md §4), so the page handles a poll answer, a reload after a ``reset`` and a live
frame alike."""

from flask import current_app

from app.models import BUCKET_SECONDS
from app.models.timestamps import isoformat, utcnow
from app.services import revenue
from app.services.activity import recent_activity
from app.services.changes import missed
from app.services.counts import read_stats, read_version
from app.services.keyset import Cursor
from app.services.order_query import OrderFilter, search_orders
from app.services.serializers import order_summary

RECENT_ACTIVITY = 20


def revenue_window() -> dict:
    """``{bucket_seconds: 900, buckets: [[start (Unix s), revenue (credits), orders,
    cancelled]]}`` for the last 48 hours (``orders - cancelled``: the live ones):
    zone-agnostic, each page sums them into its own hours."""
    return {"bucket_seconds": BUCKET_SECONDS, "buckets": revenue.window()}


def view(table: OrderFilter, page: int, per_page: int, cursor: Cursor | None = None) -> dict:
    """Everything the dashboard shows for one view of the orders table (``table``: its
    filter, search, dates and sort; ``page`` and ``per_page``, or the keyset ``cursor``
    that "Next"/"Previous" follow: ``app/services/keyset.py``).

    Returns ``{version, stats, page: Pagination, rows: [order_summary], activity:
    [activity_entry] (oldest first), revenue, timestamp}``. ``version`` is read first: the
    rest may already include later changes, and the stream resumes from ``version``
    (repeats are harmless, the page merges by id)."""
    version = read_version()
    orders = search_orders(table, page, per_page, cursor)
    return {
        "version": version,
        "stats": read_stats(),
        "page": orders,
        "rows": [order_summary(o) for o in orders.items],
        "activity": list(reversed(recent_activity(RECENT_ACTIVITY))),
        "revenue": revenue_window(),
        "timestamp": isoformat(utcnow()),
    }


def since(version: int) -> dict:
    """What a page at ``version`` missed: ``{reset: false, stats, recent_orders, activity,
    revenue}`` within the resume window, else ``{reset: true, stats}`` (the page then
    reloads its view once)."""
    stats = read_stats()
    config = current_app.config
    found = None
    if version <= stats["version"]:
        found = missed(
            version,
            stats["version"],
            config["SSE_RESUME_MAX_VERSIONS"],
            config["SSE_RESUME_MAX_SECONDS"],
        )
    if found is None:
        return {"reset": True, "stats": stats}
    orders, activity = found
    return {
        "reset": False,
        "stats": stats,
        "recent_orders": orders,
        "activity": activity,
        "revenue": revenue_window(),
    }

"""One order's history, from its ``order_activity`` rows: the details dialog lists it, and a
refused move names the change that got there first ("bob moved it to Shipped 4 s ago")."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models import STATE_KINDS, Order, OrderActivity, User
from app.models.timestamps import utcnow
from app.services.activity import activity_entry

MAX_HISTORY = 200  # far more than any order's life (placed, three moves, a cancel, undos)


def _entries(order: Order, newest_first: bool, limit: int, kinds=None) -> list[dict]:
    direction = sa.desc if newest_first else sa.asc
    version = sa.func.coalesce(OrderActivity.version, 0)
    query = sa.select(OrderActivity, User.username).where(OrderActivity.order_id == order.id)
    if kinds is not None:
        query = query.where(OrderActivity.kind.in_(kinds))
    rows = db.session.execute(
        query.outerjoin(User, User.id == OrderActivity.actor_id)
        # The version orders changes as they committed; the id breaks ties (and orders
        # entries written before versions were recorded, whose version is NULL).
        .order_by(direction(version), direction(OrderActivity.id))
        .limit(limit)
        .options(so.noload("*"))
    ).all()
    return [activity_entry(a, order.order_number, name) for a, name in rows]


def order_history(order: Order) -> list[dict]:
    """``[activity_entry]`` of ``order``, oldest first (one query): placed, each move, the
    cancel, each undo, notes, tags and refunds, with actor and time (docs/design.md §4
    activity shape). Admins only: it holds internal notes."""
    return _entries(order, newest_first=False, limit=MAX_HISTORY)


def last_change(order: Order) -> dict | None:
    """The newest ``activity_entry`` of ``order`` that moved its status or cancellation
    (``STATE_KINDS``), or ``None``: a note, a tag or a refund made since does not make an
    advance stale or block its undo."""
    found = _entries(order, newest_first=True, limit=1, kinds=STATE_KINDS)
    return found[0] if found else None


def ago(at: datetime, now: datetime | None = None) -> str:
    """How long before ``now`` (naive UTC, default the clock) ``at`` was, in words people
    read at a glance: "4 s ago", "3 min ago", "2 h ago", "5 days ago"."""
    seconds = max(0, int(((now or utcnow()) - at).total_seconds()))
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86400
    return f"{days} day{'' if days == 1 else 's'} ago"


def describe(entry: dict, now: datetime | None = None) -> str:
    """An entry as a sentence about "it" (the order): "bob moved it to Shipped 4 s ago",
    "alice cancelled it 1 min ago", "bob undid the move to Shipped 2 s ago"."""
    who = entry["actor"] or "The system"
    at = datetime.fromisoformat(entry["at"].replace("Z", "+00:00")).replace(tzinfo=None)
    did = {
        "created": "placed it",
        "status": f"moved it to {entry['to_status']}",
        "cancelled": "cancelled it",
        "status_undone": f"undid the move to {entry['from_status']}",
        "cancel_undone": "undid its cancellation",
        "note": "added a note",
        "note_edited": "edited a note",
        "note_deleted": "deleted a note",
        "tagged": f"changed its tags ({entry['note']})",
        "refunded": f"refunded {entry.get('credits')} credits",
    }.get(entry["kind"], "changed it")
    return f"{who} {did} {ago(at, now)}"

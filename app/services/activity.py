"""The order activity feed: recording who did what (inside the caller's transaction) and
reading the newest entries."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models import ACTIVITY_KINDS, Order, OrderActivity, User
from app.models.timestamps import isoformat, utcnow

MAX_LIMIT = 200


def activity_row(
    order: Order,
    kind: str,
    actor: User | None = None,
    from_status: str | None = None,
    note: str | None = None,
    ref_id: int | None = None,
    amount: int | None = None,
    at=None,
) -> dict:
    """The ``order_activity`` row (column → value, all but ``id`` and ``version``) for
    ``order``'s change; ``app.services.changes.record_change`` inserts it with the version
    the change commits as, in the statement that takes that version.

    ``kind`` is one of ``ACTIVITY_KINDS`` (``created``, ``status``, ``cancelled``, an
    undo's ``status_undone`` or ``cancel_undone``, ``note``, ``note_edited``,
    ``note_deleted``, ``tagged``, ``refunded``); ``to_status`` is the order's
    status now; ``actor`` ``None`` means the system (CLI, simulator); ``ref_id`` the note a
    note entry is about, ``amount`` a refund's credits, ``at`` the time (default: the
    order's ``updated_at``, which a note or a tag does not move). Raises ``ValueError`` for
    an unknown kind.
    """
    if kind not in ACTIVITY_KINDS:
        raise ValueError(f"unknown activity kind {kind!r}")
    return {
        "order_id": order.id,
        "actor_id": actor.id if actor is not None else None,
        "kind": kind,
        "from_status": from_status,
        "to_status": order.status,
        "note": note,
        "at": at or order.updated_at or utcnow(),
        "ref_id": ref_id,
        "credits": amount,
    }


def recent_activity(limit: int = 50, before: OrderActivity | None = None) -> list[dict]:
    """The newest ``limit`` entries, newest first, as ``activity_entry`` dicts (one query).

    ``before``: only entries older than that one in the feed's order (time, then id: the
    order the dashboard's list shows), for "Load older": a keyset on ``(at, id)``, so
    entries added meanwhile never shift what comes next."""
    query = (
        sa.select(OrderActivity, Order.order_number, User.username)
        .join(Order, Order.id == OrderActivity.order_id)
        .outerjoin(User, User.id == OrderActivity.actor_id)
        .order_by(OrderActivity.at.desc(), OrderActivity.id.desc())
        .limit(limit)
        .options(so.noload("*"))
    )
    if before is not None:
        key = sa.tuple_(OrderActivity.at, OrderActivity.id)
        query = query.where(key < sa.tuple_(sa.literal(before.at), sa.literal(before.id)))
    rows = db.session.execute(query).all()
    return [activity_entry(a, number, username) for a, number, username in rows]


def activity_entry(entry: OrderActivity, order_number: str, actor: str | None) -> dict:
    """``{id, order_id, order_number, kind, from_status, to_status, note, ref_id, credits,
    actor, at}``; ``actor`` is a username or ``None`` (the system), ``at`` ISO 8601 UTC,
    ``ref_id`` the note a note entry is about, ``credits`` a refund's amount (both ``None``
    for other kinds)."""
    return {
        "id": entry.id,
        "order_id": entry.order_id,
        "order_number": order_number,
        "kind": entry.kind,
        "from_status": entry.from_status,
        "to_status": entry.to_status,
        "note": entry.note,
        "ref_id": entry.ref_id,
        "credits": entry.credits,
        "actor": actor,
        "at": isoformat(entry.at),
    }

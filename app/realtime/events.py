"""Order events queued inside a transaction and published only after it commits.

Services call ``queue_order_event``; a SQLAlchemy ``after_commit`` hook hands the events to
the hub's backend, and a rollback drops them, so no stream ever sees an order that was not
written.
"""

import logging
import time

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, has_app_context

from app.extensions import db
from app.models import Order, User
from app.services.serializers import order_summary, order_tracking

log = logging.getLogger(__name__)
KEY = "realtime_events"


def queue_order_event(
    kind: str, order: Order, actor: User | None = None, activity: dict | None = None
) -> None:
    """Queue ``{kind, order_id, user_id, order_event, tracking}`` for after commit.

    ``kind`` is ``created``, ``status`` or ``cancelled``; ``order_event`` is the contract's
    ``event: order`` body ``{kind, order: {...}, actor, activity}`` (DESIGN.md §4): ``actor``
    is the username of whoever made the change (``None`` for the system) and ``activity``
    the feed entry (``app.services.activity.activity_entry``) or ``None``.
    """
    event = {
        "kind": kind,
        "order_id": order.id,
        "user_id": order.user_id,
        "order_event": {
            "kind": kind,
            "order": order_summary(order),
            "actor": actor.username if actor is not None else None,
            "activity": activity,
        },
        "tracking": order_tracking(order),
    }
    db.session.info.setdefault(KEY, []).append(event)


@sa.event.listens_for(so.Session, "after_commit")
def _publish_after_commit(session: so.Session) -> None:
    events = session.info.pop(KEY, None)
    if not events or not has_app_context():
        return
    hub = current_app.extensions.get("realtime")
    if hub is None:
        return
    now = time.time()
    for event in events:
        event["published_at"] = now  # for the publish→delivery lag histogram
    try:
        hub.publish(events)
    except Exception:  # the order is committed; streams catch up via the version check
        log.exception("publishing %d order event(s) failed", len(events))


@sa.event.listens_for(so.Session, "after_rollback")
def _drop_after_rollback(session: so.Session) -> None:
    session.info.pop(KEY, None)

"""Ending the streams of sessions that ended (docs/design.md §1: sessions end on the
server): ``revoke`` messages from any worker, and the periodic re-validation of every open
stream's session, which catches changes made straight in the database."""

from app.realtime import sse
from app.realtime.registry import StreamRegistry
from app.realtime.subscription import Subscription
from app.services import session_expiry, sessions


def apply_revocations(registry: StreamRegistry, revocations: list[dict]) -> None:
    """End the streams of sessions that ended (``revoke`` changes from any worker): one
    session, or every session of a user but the one kept (``sessions.ends``; the
    message's shape is ``sessions.revoke_message``, docs/design.md §5b)."""
    for revoke in revocations:
        for sub in registry.all():
            if sessions.ends(revoke, sub.user_id, sub.session_id):
                end(sub, revoke.get("reason", "ended"))


def revalidate(registry: StreamRegistry) -> None:
    """One query for the dashboards' sessions and one for every other stream's: a session
    deleted, a user deactivated or an admin demoted straight in the database ends its
    streams too (within ``SSE_REVALIDATE_SECONDS``), not only through revoke messages.
    The dashboards' check reads each session's role; the others' returns only the sessions
    that ended (``session_expiry.ended_among``), so 10,000 customers' pages cost little
    when nothing changed. First, the sessions that stream requests saw are marked seen
    (``session_expiry.write_seen``)."""
    session_expiry.write_seen()
    subs = [sub for sub in registry.all() if sub.session_id and not sub.closed]
    if not subs:
        return
    dashboards = [sub for sub in subs if sub.order_id is None]
    valid = session_expiry.still_valid({sub.session_id for sub in dashboards})
    for sub in dashboards:
        found = valid.get(sub.session_id)
        if found is None or found[0] != sub.user_id:
            end(sub, "ended")
        elif found[1] != "admin":
            end(sub, "role")
    others = [sub for sub in subs if sub.order_id is not None]
    ended = session_expiry.ended_among({sub.session_id for sub in others})
    for sub in others:
        if sub.session_id in ended:
            end(sub, "ended")


def end(sub: Subscription, reason: str) -> None:
    """Close ``sub`` with an ``event: revoked`` frame: the page goes to the login page
    instead of reconnecting; its slot is freed once its response closes."""
    if sub.closed:
        return
    frame = sse.encode({"reason": reason}, event="revoked")
    sub.offer([frame], None, sse.chunk(frame))
    sub.close()

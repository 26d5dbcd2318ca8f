"""Server-side sessions (``user_sessions``): starting one at login, ending one (logout) or
all of a user's (password change, "log out other sessions", demotion, deactivation), and
checking which are still valid (the hub's periodic re-validation of open streams).

Ending sessions is recorded in the outbox: after commit every worker's hub closes the
matching open streams (a ``revoke`` change, over the same backend as order events).
"""

import secrets

import sqlalchemy as sa

from app.extensions import db
from app.models import User, UserSession
from app.services import outbox

REASONS = ("logout", "password", "other-sessions", "role", "deactivated", "ended")


def start(user: User, user_agent: str = "", ip: str = "") -> UserSession:
    """Add a new session for ``user`` (flushed, not committed) and make it the one
    ``user.get_id()`` names."""
    record = UserSession(
        id=secrets.token_urlsafe(32),
        user_id=user.id,
        user_agent=(user_agent or "")[:200],
        ip=(ip or "")[:45],
    )
    db.session.add(record)
    db.session.flush()
    user.session_id = record.id
    return record


def end(user_id: int, session_id: str, reason: str = "logout") -> None:
    """End one session: its cookie is anonymous from the commit on, its streams close."""
    db.session.execute(sa.delete(UserSession).where(UserSession.id == session_id))
    _revoke(user_id, [session_id], reason)


def end_all(user_id: int, reason: str, keep: str | None = None) -> int:
    """End every session of ``user_id`` except ``keep``; returns how many ended."""
    query = sa.select(UserSession.id).where(UserSession.user_id == user_id)
    if keep is not None:
        query = query.where(UserSession.id != keep)
    ids = list(db.session.scalars(query))
    if ids:
        db.session.execute(sa.delete(UserSession).where(UserSession.id.in_(ids)))
        _revoke(user_id, ids, reason)
    return len(ids)


def of_user(user_id: int) -> list[UserSession]:
    """The user's sessions, newest first (the account page)."""
    query = (
        sa.select(UserSession)
        .where(UserSession.user_id == user_id)
        .order_by(UserSession.created_at.desc())
    )
    return list(db.session.scalars(query))


def still_valid(session_ids, chunk: int = 500) -> dict[str, tuple[int, str]]:
    """``{session id: (user id, role)}`` for those of ``session_ids`` that still exist and
    belong to an active user: one query per ``chunk`` ids, whatever the number of streams
    that share them."""
    ids = list(session_ids)
    valid: dict[str, tuple[int, str]] = {}
    for start_at in range(0, len(ids), chunk):
        rows = db.session.execute(
            sa.select(UserSession.id, User.id, User.role)
            .join(User, User.id == UserSession.user_id)
            .where(UserSession.id.in_(ids[start_at : start_at + chunk]), User.active.is_(True))
        )
        valid.update({sid: (uid, role) for sid, uid, role in rows})
    return valid


def _revoke(user_id: int, session_ids: list[str], reason: str) -> None:
    if reason not in REASONS:
        raise ValueError(f"unknown reason {reason!r}")
    outbox.record(
        {"type": "revoke", "user_id": user_id, "session_ids": session_ids, "reason": reason}
    )

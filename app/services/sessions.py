"""Server-side sessions (``user_sessions``): starting one at login, a new id for the current
one (password change, "log out other sessions"), ending one (logout, the account page) or
all of a user's but one (demotion, deactivation). A user keeps at most
``SESSION_MAX_PER_USER`` (a new login ends the oldest). Expiry, loading and pruning:
``app/services/session_expiry.py``.

Ending sessions is recorded in the outbox: after commit every worker's hub closes the
matching open streams. The message has a constant size whatever the number of sessions
(docs/design.md §5b: PostgreSQL NOTIFY allows 8,000 bytes): ``revoke_message``.
"""

import hashlib
import secrets

import sqlalchemy as sa

from app.extensions import db
from app.models import User, UserSession
from app.models.timestamps import utcnow
from app.services import outbox, session_expiry

REASONS = ("logout", "password", "other-sessions", "role", "deactivated", "ended", "limit")


def revoke_message(user_id: int, reason: str, session_id=None, keep=None) -> dict:
    """The outbox change that ends streams: ``{"type": "revoke", "user_id": int,
    "session_id": str | None, "keep": str | None, "reason": str}``.

    ``session_id`` set: that one session of the user ended. ``session_id`` ``None``: every
    session of the user ended except ``keep`` (``None``: all of them). Never a list, so the
    size is bounded (docs/design.md §5b). ``reason`` is one of ``REASONS``; a stream closes
    with it (``event: revoked``). Raises ``ValueError`` for an unknown reason."""
    if reason not in REASONS:
        raise ValueError(f"unknown reason {reason!r}")
    return {
        "type": "revoke",
        "user_id": user_id,
        "session_id": session_id,
        "keep": keep,
        "reason": reason,
    }


def ends(message: dict, user_id, session_id) -> bool:
    """Whether a ``revoke_message`` ends the session ``session_id`` of ``user_id`` (what
    the hub, and any per-worker cache of sessions, applies)."""
    if message.get("user_id") != user_id:
        return False
    if message.get("session_id") is not None:
        return message["session_id"] == session_id
    return message.get("keep") is None or message["keep"] != session_id


def start(user: User, user_agent: str = "", ip: str = "") -> UserSession:
    """Add a new session for ``user`` (flushed, not committed) and make it the one
    ``user.get_id()`` names. Beyond ``SESSION_MAX_PER_USER`` the oldest sessions end
    (reason ``limit``); the user's expired rows go, and at most every
    ``SESSION_PRUNE_SECONDS`` per worker every user's."""
    now = utcnow()
    record = _new_record(user, now, (user_agent or "")[:200], (ip or "")[:45])
    db.session.execute(
        sa.delete(UserSession).where(
            UserSession.user_id == user.id, sa.not_(session_expiry.alive(now))
        )
    )
    _keep_at_most(user.id, int(session_expiry.config("SESSION_MAX_PER_USER")))
    if session_expiry.prune_due():
        session_expiry.prune(now)
    return record


def _keep_at_most(user_id: int, cap: int) -> None:
    """End the oldest sessions of ``user_id`` beyond ``cap`` (each its own message)."""
    oldest_first = list(
        db.session.scalars(
            sa.select(UserSession.id)
            .where(UserSession.user_id == user_id)
            .order_by(UserSession.created_at.desc(), UserSession.id)
            .offset(max(cap, 1))
        )
    )
    for session_id in oldest_first:
        end(user_id, session_id, "limit")


def rotate(user: User, reason: str) -> int:
    """Give the current session (``user.session_id``) a new id and end every other session
    of the user, the old id included: a copy of the cookie taken before is anonymous from
    the commit on, even from the same address and browser (OWASP: renew the session id
    after any privilege change). The caller commits and logs the user in again
    (``flask_login.login_user``) so that the cookie names the new id. Returns how many
    *other* sessions ended."""
    old = db.session.get(UserSession, user.session_id) if user.session_id else None
    now = utcnow()
    record = _new_record(user, now, old.user_agent if old else "", old.ip if old else "")
    ended = end_all(user.id, reason, keep=record.id)
    return ended - (1 if old is not None else 0)


def end(user_id: int, session_id: str, reason: str = "logout") -> None:
    """End one session: its cookie is anonymous from the commit on, its streams close."""
    db.session.execute(sa.delete(UserSession).where(UserSession.id == session_id))
    outbox.record(revoke_message(user_id, reason, session_id=session_id))


def end_all(user_id: int, reason: str, keep: str | None = None) -> int:
    """End every session of ``user_id`` except ``keep``; returns how many ended. One
    message whatever their number (``revoke_message``)."""
    query = sa.delete(UserSession).where(UserSession.user_id == user_id)
    if keep is not None:
        query = query.where(UserSession.id != keep)
    ended = db.session.execute(query).rowcount
    if ended:
        outbox.record(revoke_message(user_id, reason, keep=keep))
    return ended


def of_user(user_id: int) -> list[UserSession]:
    """The user's live sessions, the most recently seen first (the account page)."""
    query = (
        sa.select(UserSession)
        .where(UserSession.user_id == user_id, session_expiry.alive(utcnow()))
        .order_by(UserSession.last_seen_at.desc(), UserSession.created_at.desc())
    )
    return list(db.session.scalars(query))


def handle(record: UserSession) -> str:
    """A name for a session that pages may show and post back (``/account`` "log out"):
    not its id, which only the signed cookie carries."""
    return hashlib.sha256(record.id.encode()).hexdigest()[:24]


def by_handle(user_id: int, value: str) -> UserSession | None:
    """The live session of ``user_id`` whose ``handle`` is ``value``, else ``None``."""
    return next((s for s in of_user(user_id) if handle(s) == value), None)


def _new_record(user, now, user_agent: str, ip: str) -> UserSession:
    """A new session record for ``user`` (flushed) that ``user.get_id()`` now names."""
    record = UserSession(
        id=secrets.token_urlsafe(32),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        user_agent=user_agent,
        ip=ip,
    )
    db.session.add(record)
    db.session.flush()
    user.session_id = record.id
    return record

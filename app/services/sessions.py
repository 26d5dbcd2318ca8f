"""Server-side sessions (``user_sessions``): starting one at login, loading the one a cookie
names, ending one (logout, the account page) or all of a user's but one (password change,
"log out other sessions", demotion, deactivation), expiry and pruning, and checking which
are still valid (the hub's periodic re-validation of open streams).

Expiry (OWASP Session Management Cheat Sheet, "Session Expiration"): a session ends when it
was idle for ``SESSION_IDLE_TIMEOUT_SECONDS`` or started more than
``SESSION_ABSOLUTE_TIMEOUT_SECONDS`` ago; a user keeps at most ``SESSION_MAX_PER_USER``
(a new login ends the oldest). Expired rows are deleted by the app itself (at logins, at
most every ``SESSION_PRUNE_SECONDS`` per worker) and by ``flask prune-sessions``.

Ending sessions is recorded in the outbox: after commit every worker's hub closes the
matching open streams. The message has a constant size whatever the number of sessions
(docs/design.md §5b: PostgreSQL NOTIFY allows 8,000 bytes): ``revoke_message``.
"""

import hashlib
import secrets
import threading
import time
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import User, UserSession
from app.models._time import utcnow
from app.services import outbox

REASONS = ("logout", "password", "other-sessions", "role", "deactivated", "ended", "limit")
PRUNE_BATCH = 1000  # rows per DELETE, so pruning never holds a login up for long

_pruned_at = {"t": float("-inf")}
_prune_lock = threading.Lock()


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


def _config(name: str) -> float:
    return current_app.config[name]


def _valid_since(now: datetime) -> tuple[datetime, datetime]:
    """``(seen after, created after)``: a session is valid when both hold."""
    idle = timedelta(seconds=_config("SESSION_IDLE_TIMEOUT_SECONDS"))
    absolute = timedelta(seconds=_config("SESSION_ABSOLUTE_TIMEOUT_SECONDS"))
    return now - idle, now - absolute


def _alive(now: datetime):
    seen_after, created_after = _valid_since(now)
    return sa.and_(UserSession.last_seen_at > seen_after, UserSession.created_at > created_after)


def start(user: User, user_agent: str = "", ip: str = "") -> UserSession:
    """Add a new session for ``user`` (flushed, not committed) and make it the one
    ``user.get_id()`` names. Beyond ``SESSION_MAX_PER_USER`` the oldest sessions end
    (reason ``limit``); the user's expired rows go, and at most every
    ``SESSION_PRUNE_SECONDS`` per worker every user's."""
    now = utcnow()
    record = UserSession(
        id=secrets.token_urlsafe(32),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        user_agent=(user_agent or "")[:200],
        ip=(ip or "")[:45],
    )
    db.session.add(record)
    db.session.flush()
    user.session_id = record.id
    db.session.execute(
        sa.delete(UserSession).where(UserSession.user_id == user.id, sa.not_(_alive(now)))
    )
    _keep_at_most(user.id, int(_config("SESSION_MAX_PER_USER")))
    if _prune_due():
        prune(now)
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
    record = UserSession(
        id=secrets.token_urlsafe(32),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        user_agent=old.user_agent if old else "",
        ip=old.ip if old else "",
    )
    db.session.add(record)
    db.session.flush()
    user.session_id = record.id
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


# Built once: each request's load then skips building and hashing the statement (a reconnect
# storm is thousands of these a second).
_IN_SESSION = (
    sa.select(User, UserSession.last_seen_at)
    .join(UserSession, UserSession.user_id == User.id)
    .where(
        UserSession.id == sa.bindparam("session_id"),
        User.id == sa.bindparam("user_id"),
        User.active.is_(True),
        UserSession.last_seen_at > sa.bindparam("seen_after"),
        UserSession.created_at > sa.bindparam("created_after"),
    )
)


def load_user(alternative_id: str) -> User | None:
    """Flask-Login's user loader: the active ``User`` whose session ``"<user id>:<session
    id>"`` exists and has not expired (one query), else ``None`` (anonymous). A session
    last seen more than ``SESSION_TOUCH_SECONDS`` ago is marked seen now (one UPDATE and
    COMMIT, only while the request has written nothing yet)."""
    user_id, _, session_id = alternative_id.partition(":")
    if not (user_id.isascii() and user_id.isdigit()) or len(user_id) > 10 or not session_id:
        return None
    now = utcnow()
    seen_after, created_after = _valid_since(now)
    params = {
        "user_id": int(user_id),
        "session_id": session_id,
        "seen_after": seen_after,
        "created_after": created_after,
    }
    row = db.session.execute(_IN_SESSION, params).one_or_none()
    if row is None:
        return None
    user, last_seen = row
    user.session_id = session_id
    if last_seen < now - timedelta(seconds=_config("SESSION_TOUCH_SECONDS")):
        _touch(session_id, now)
    return user


def _touch(session_id: str, now: datetime) -> None:
    session = db.session
    if session.new or session.dirty or session.deleted or session.info.get(outbox.KEY):
        return  # the request has writes of its own in flight: never commit them here
    session.execute(
        sa.update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now)
    )
    session.commit()


def of_user(user_id: int) -> list[UserSession]:
    """The user's live sessions, the most recently seen first (the account page)."""
    query = (
        sa.select(UserSession)
        .where(UserSession.user_id == user_id, _alive(utcnow()))
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


def prune(now: datetime | None = None, batch: int = PRUNE_BATCH) -> int:
    """Delete expired sessions in batches of ``batch`` rows; returns how many. No message:
    open streams of an expired session end at the hub's next re-validation."""
    now = now or utcnow()
    seen_after, created_after = _valid_since(now)
    expired = sa.or_(
        UserSession.last_seen_at <= seen_after, UserSession.created_at <= created_after
    )
    total = 0
    while True:
        ids = list(db.session.scalars(sa.select(UserSession.id).where(expired).limit(batch)))
        if not ids:
            return total
        db.session.execute(sa.delete(UserSession).where(UserSession.id.in_(ids)))
        total += len(ids)
        if len(ids) < batch:
            return total


def _prune_due() -> bool:
    interval = _config("SESSION_PRUNE_SECONDS")
    with _prune_lock:
        if time.monotonic() - _pruned_at["t"] < interval:
            return False
        _pruned_at["t"] = time.monotonic()
        return True


def still_valid(session_ids, chunk: int = 500) -> dict[str, tuple[int, str]]:
    """``{session id: (user id, role)}`` for those of ``session_ids`` that still exist, have
    not expired and belong to an active user: one query per ``chunk`` ids, whatever the
    number of streams that share them."""
    ids = list(session_ids)
    valid: dict[str, tuple[int, str]] = {}
    alive = _alive(utcnow())
    for start_at in range(0, len(ids), chunk):
        rows = db.session.execute(
            sa.select(UserSession.id, User.id, User.role)
            .join(User, User.id == UserSession.user_id)
            .where(
                UserSession.id.in_(ids[start_at : start_at + chunk]),
                User.active.is_(True),
                alive,
            )
        )
        valid.update({sid: (uid, role) for sid, uid, role in rows})
    return valid

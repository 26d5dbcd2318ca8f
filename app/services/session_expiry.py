"""Session expiry (OWASP Session Management Cheat Sheet, "Session Expiration"): a session
ends when it was idle for ``SESSION_IDLE_TIMEOUT_SECONDS`` or started more than
``SESSION_ABSOLUTE_TIMEOUT_SECONDS`` ago. Loading the session a cookie names (Flask-Login's
user loader), marking it seen, the hub's re-validation of open streams, and pruning expired
rows (at logins, at most every ``SESSION_PRUNE_SECONDS`` per worker, and by ``flask
prune-sessions``).
"""

import threading
import time
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import User, UserSession
from app.models.timestamps import utcnow
from app.services import outbox, session_batch, session_cache
from app.services.session_ids import each_of

PRUNE_BATCH = 1000  # rows per DELETE, so pruning never holds a login up for long

_pruned_at = {"t": float("-inf")}
_prune_lock = threading.Lock()


def config(name: str) -> float:
    """The app's setting ``name`` (``SESSION_*`` seconds or counts)."""
    return current_app.config[name]


def _valid_since(now: datetime) -> tuple[datetime, datetime]:
    """``(seen after, created after)``: a session is valid when both hold."""
    idle = timedelta(seconds=config("SESSION_IDLE_TIMEOUT_SECONDS"))
    absolute = timedelta(seconds=config("SESSION_ABSOLUTE_TIMEOUT_SECONDS"))
    return now - idle, now - absolute


def alive(now: datetime):
    """The SQL condition "this session has not expired at ``now``"."""
    seen_after, created_after = _valid_since(now)
    return sa.and_(UserSession.last_seen_at > seen_after, UserSession.created_at > created_after)


# Built once: each request's load then skips building and hashing the statement (a reconnect
# storm is thousands of these a second).
_VALID_SESSION = (
    UserSession.id == sa.bindparam("session_id"),
    User.id == sa.bindparam("user_id"),
    User.active.is_(True),
    UserSession.last_seen_at > sa.bindparam("seen_after"),
    UserSession.created_at > sa.bindparam("created_after"),
)
_IN_SESSION = (
    sa.select(User, UserSession.last_seen_at)
    .join(UserSession, UserSession.user_id == User.id)
    .where(*_VALID_SESSION)
)


def _parse(alternative_id: str) -> tuple[int, str] | None:
    user_id, _, session_id = alternative_id.partition(":")
    if not (user_id.isascii() and user_id.isdigit()) or len(user_id) > 10 or not session_id:
        return None
    return int(user_id), session_id


def _params(user_id: int, session_id: str, now: datetime) -> dict:
    seen_after, created_after = _valid_since(now)
    return {
        "user_id": user_id,
        "session_id": session_id,
        "seen_after": seen_after,
        "created_after": created_after,
    }


def load_user(alternative_id: str) -> User | None:
    """Flask-Login's user loader: the active ``User`` whose session ``"<user id>:<session
    id>"`` exists and has not expired (one query), else ``None`` (anonymous). A session
    last seen more than ``SESSION_TOUCH_SECONDS`` ago is marked seen now (one UPDATE and
    COMMIT, only while the request has written nothing yet)."""
    parsed = _parse(alternative_id)
    if parsed is None:
        return None
    now = utcnow()
    row = db.session.execute(_IN_SESSION, _params(*parsed, now)).one_or_none()
    if row is None:
        return None
    user, last_seen = row
    user.session_id = parsed[1]
    if last_seen < now - timedelta(seconds=config("SESSION_TOUCH_SECONDS")):
        _touch(parsed[1], now)
    return user


def load_principal(alternative_id: str) -> session_cache.Principal | None:
    """The user loader of the stream endpoints: who the session ``"<user id>:<session
    id>"`` belongs to, as a ``session_cache.Principal`` (``id``, ``username``, ``role``,
    ``session_id``), under the same rules as ``load_user`` (exists, not expired, active
    user; marked seen every ``SESSION_TOUCH_SECONDS``, in a batch: ``write_seen``), else
    ``None`` (anonymous). A session this worker read within ``SESSION_CACHE_SECONDS`` costs
    no query (``app/services/session_cache.py`` says what keeps that right); the others are
    read with those of the concurrent stream requests (``session_batch``)."""
    parsed = _parse(alternative_id)
    if parsed is None:
        return None
    user_id, session_id = parsed
    cache = session_cache.get()
    now = utcnow()
    entry = cache.get(user_id, session_id) if cache.enabled else None
    idle = timedelta(seconds=config("SESSION_IDLE_TIMEOUT_SECONDS"))
    absolute = timedelta(seconds=config("SESSION_ABSOLUTE_TIMEOUT_SECONDS"))
    cached = entry is not None and session_cache.still_valid(entry, now, idle, absolute)
    if not cached:
        generation = cache.generation  # before the query: a revoke meanwhile wins
        row = session_batch.principal_row(user_id, session_id, alive(now))
        if row is None:
            return None
        entry = session_cache.Entry(*row, cache.clock())
        if cache.enabled:
            cache.put(generation, user_id, session_id, entry)
    if entry.last_seen_at < now - timedelta(seconds=config("SESSION_TOUCH_SECONDS")):
        cache.saw(session_id, now)  # written with the others' by write_seen
        entry.last_seen_at = now
    return session_cache.Principal(user_id, entry.username, entry.role, session_id, cached)


def _touch(session_id: str, now: datetime) -> None:
    session = db.session
    if session.new or session.dirty or session.deleted or session.info.get(outbox.KEY):
        return  # the request has writes of its own in flight: never commit them here
    session.execute(
        sa.update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now)
    )
    session.commit()


def write_seen(chunk: int = 500) -> int:
    """Write the ``last_seen_at`` that stream requests noted (``SessionCache.saw``): one
    ``UPDATE`` per ``chunk`` sessions, each set to the latest time noted in its chunk (never
    moved back), and one commit. Returns how many sessions were noted. Run by the hub
    (``app/realtime/revocation.py``), in its app context."""
    seen = session_cache.get().take_seen()
    ids = list(seen)
    for start_at in range(0, len(ids), chunk):
        part = ids[start_at : start_at + chunk]
        when = max(seen[session_id] for session_id in part)
        db.session.execute(
            sa.update(UserSession)
            .where(UserSession.id.in_(part), UserSession.last_seen_at < when)
            .values(last_seen_at=when)
        )
    if ids:
        db.session.commit()
    return len(ids)


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


def prune_due() -> bool:
    interval = config("SESSION_PRUNE_SECONDS")
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
    live = alive(utcnow())
    for start_at in range(0, len(ids), chunk):
        rows = db.session.execute(
            sa.select(UserSession.id, User.id, User.role)
            .join(User, User.id == UserSession.user_id)
            .where(
                UserSession.id.in_(ids[start_at : start_at + chunk]),
                User.active.is_(True),
                live,
            )
        )
        valid.update({sid: (uid, role) for sid, uid, role in rows})
    return valid


def ended_among(session_ids) -> set[str]:
    """Those of ``session_ids`` that no longer exist, have expired or belong to an inactive
    user. One query however many, returning only the ended ones: the ids travel as one
    JSON text, not one bound parameter each, so checking
    10,000 customers' streams costs little when nothing changed. Roles are not looked at
    (``still_valid`` does, for the dashboards)."""
    ids = list(session_ids)
    if not ids:
        return set()
    wanted = each_of(ids)  # one JSON text (a tenth of an idle worker's CPU as an array)
    live = (
        sa.select(UserSession.id)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.id == wanted, User.active.is_(True), alive(utcnow()))
    )
    return set(db.session.scalars(sa.select(wanted).where(~live.exists())))

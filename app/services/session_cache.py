"""A per-worker cache of valid sessions, for the stream endpoints' user loader.

A reconnect storm (a deploy ends thousands of streams at once) is thousands of stream
requests a second, each of which must know whose session its cookie names. Instead of the
user loader's query (``session_expiry.load_user``), a stream request whose session this
worker saw within ``SESSION_CACHE_SECONDS`` is answered from memory, as a ``Principal``
(who the user is: no ORM object, no database session).

What keeps it right (docs/design.md §1, "Sessions end on the server"):

- **The revoke messages that end open streams drop entries.** Every session that ends
  (logout, password change, demotion, deactivation, the cap) sends one ``revoke`` message
  through the worker's backend; the hub hands each to ``apply`` as it arrives, before it
  ends the streams (``sessions.ends`` is the one rule for both). A backend's ``resync``
  (after its connection came back: messages may have been missed) clears everything.
- **Only while messages can arrive.** A session is cached only while the backend listens
  (``listening``), and only if no revoke or resync arrived between the start of the query
  and the store (``generation``): a query that read a session just before it ended never
  puts it back.
- **A short TTL bounds the rest** (``SESSION_CACHE_SECONDS``): changes made straight in
  the database, and commits of processes on SQLite, which send no message across
  processes. The idle and absolute timeouts are checked against the cached times at each
  use.

``last_seen_at`` is still written every ``SESSION_TOUCH_SECONDS``, but not by the stream
request itself: a reconnect storm would be one ``UPDATE`` and ``COMMIT`` per stream (every
stream open for a minute has a session last seen a minute ago). The requests note what
they saw (``saw``) and the hub writes it every ``SSE_REVALIDATE_SECONDS``, one statement
per 500 sessions (``session_expiry.write_seen``): the idle timeout counts from a time at
most that much earlier.
"""

import threading
import time
from datetime import datetime, timedelta

from flask import Flask, current_app
from flask_login import UserMixin

from app.services import sessions

# Past this many entries the cache starts over: memory stays bounded whatever the traffic.
MAX_ENTRIES = 100_000


class Principal(UserMixin):
    """Who a stream request belongs to: what the stream views read of ``current_user``
    (``id``, ``username``, ``role``, ``session_id``, ``is_admin``, ``get_id``). Not an ORM
    object: nothing can lazy-load through it or write it back. ``cached``: found in the
    cache (no query)."""

    __slots__ = ("id", "username", "role", "session_id", "cached")

    def __init__(self, user_id: int, username: str, role: str, session_id: str, cached=False):
        self.id, self.username, self.role, self.session_id = user_id, username, role, session_id
        self.cached = cached

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_active(self) -> bool:
        return True  # only active users' sessions are ever loaded

    def get_id(self) -> str:
        return f"{self.id}:{self.session_id}"


class Entry:
    """A valid session as last read: the user's name and role, when the session was
    created and last marked seen (naive UTC), and when it was read (the cache's clock,
    monotonic seconds)."""

    __slots__ = ("username", "role", "created_at", "last_seen_at", "read_at")

    def __init__(self, username, role, created_at: datetime, last_seen_at: datetime, read_at):
        self.username, self.role = username, role
        self.created_at, self.last_seen_at, self.read_at = created_at, last_seen_at, read_at


class SessionCache:
    """``{user id: {session id: Entry}}`` of one worker, with a ``generation`` that every
    revoke, resync and clear increments. ``listening`` says whether revoke messages reach
    this worker now (set by the real-time engine; false until it is wired)."""

    def __init__(self, ttl: float, max_entries: int = MAX_ENTRIES, clock=time.monotonic):
        self.ttl, self.clock = ttl, clock
        self.max_entries = max_entries
        self.generation = 0
        self.listening = lambda: False
        self._users: dict[int, dict[str, Entry]] = {}
        self._size = 0
        self._lock = threading.Lock()
        self._seen: dict[str, datetime] = {}  # session id → when a stream request saw it

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def __len__(self) -> int:
        return self._size

    def get(self, user_id: int, session_id: str) -> Entry | None:
        """The entry read within the TTL, else ``None``."""
        entry = self._users.get(user_id, {}).get(session_id)
        if entry is None or self.clock() - entry.read_at > self.ttl:
            return None
        return entry

    def put(self, generation: int, user_id: int, session_id: str, entry: Entry) -> bool:
        """Store ``entry`` if nothing dropped entries since ``generation`` was read (before
        the query that produced it) and messages can arrive; returns whether it was."""
        with self._lock:
            if generation != self.generation or not self.listening():
                return False
            if self._size >= self.max_entries:
                self._clear()
            held = self._users.setdefault(user_id, {})
            self._size += session_id not in held
            held[session_id] = entry
            return True

    def saw(self, session_id: str, when: datetime) -> None:
        """A stream request used ``session_id`` at ``when``: its ``last_seen_at`` is written
        later, with the others', by ``session_expiry.write_seen``."""
        self._seen[session_id] = when

    def take_seen(self) -> dict[str, datetime]:
        """The sessions seen since the last call, and when (forgotten here)."""
        seen, self._seen = self._seen, {}
        return seen

    def apply(self, messages: list[dict]) -> None:
        """Backend messages as they arrive: a ``revoke`` drops the sessions it ends
        (``sessions.ends``), a ``resync`` drops everything; others are not about sessions."""
        for message in messages:
            kind = message.get("type")
            if kind == "revoke":
                self._revoke(message)
            elif kind == "resync":
                self.clear()

    def _revoke(self, message: dict) -> None:
        with self._lock:
            self.generation += 1
            held = self._users.get(message.get("user_id"))
            if not held:
                return
            for session_id in [s for s in held if sessions.ends(message, message["user_id"], s)]:
                del held[session_id]
                self._size -= 1
            if not held:
                del self._users[message["user_id"]]

    def clear(self) -> None:
        """Forget every session (a resync, the engine stopping)."""
        with self._lock:
            self._clear()

    def _clear(self) -> None:
        self.generation += 1
        self._users = {}
        self._size = 0


def init_app(app: Flask) -> SessionCache:
    """Attach ``app.extensions["session_cache"]`` (TTL ``SESSION_CACHE_SECONDS``; 0: off)."""
    cache = SessionCache(float(app.config["SESSION_CACHE_SECONDS"]))
    app.extensions["session_cache"] = cache
    return cache


def get() -> SessionCache:
    return current_app.extensions["session_cache"]


def still_valid(entry: Entry, now: datetime, idle: timedelta, absolute: timedelta) -> bool:
    """The idle and absolute timeouts, against the cached times."""
    return entry.last_seen_at > now - idle and entry.created_at > now - absolute

"""The presence table one hub keeps (docs/design.md §5a): who holds a session's dashboard
(``owners``, each claim with its expiry) and the order it is focused on; and its
``event: presence`` frame. The messages that build it are described in
``app/realtime/presence.py``."""

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.models.timestamps import isoformat, utcnow
from app.realtime import sse


def session_key(user_id: int, session_id: str | None) -> str:
    """The public name of a session in presence: 16 hex digits of its id's SHA-256 (the id
    itself authenticates its cookie and is never sent)."""
    raw = session_id if session_id else f"user:{user_id}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _iso(at: float) -> str:
    return isoformat(datetime.fromtimestamp(at, UTC).replace(tzinfo=None))


@dataclass(slots=True)
class Entry:
    """One session on the board; ``owners`` maps a worker to when its claim expires
    (monotonic seconds); ``at`` orders focus changes, ``since`` is when this focus began."""

    user_id: int
    username: str
    session: str
    order_id: int | None = None
    action: str | None = None
    at: float = 0.0
    since: float = 0.0
    owners: dict = field(default_factory=dict)
    expires: float = 0.0  # for an entry no worker claims yet (a focus that came first)

    def public(self) -> dict:
        return {
            "user_id": self.user_id,
            "username": self.username,
            "session": self.session,
            "order_id": self.order_id,
            "action": self.action,
            "since": _iso(self.since) if self.order_id is not None else None,
        }


class PresenceBoard:
    """The cluster's presence as one hub knows it. ``changes`` counts visible changes."""

    def __init__(self, ttl: float):
        self.ttl = ttl
        self.entries: dict[str, Entry] = {}
        self.changes = 0

    def apply(self, msg: dict, now: float) -> None:
        """One ``here``, ``gone`` or ``focus`` message, at monotonic time ``now``."""
        op, key = msg.get("op"), msg.get("session")
        entry = self.entries.get(key)
        if op == "gone":
            if entry is not None and entry.owners.pop(msg.get("worker"), None) is not None:
                self._drop_if_unclaimed(key, entry)
            return
        if op not in ("here", "focus") or not isinstance(key, str):
            return
        if entry is None:
            entry = Entry(int(msg["user_id"]), str(msg["username"]), key, expires=now + self.ttl)
            self.entries[key] = entry
        at = float(msg.get("at") or 0)
        if at > entry.at:
            focus = (msg.get("order_id"), msg.get("action"))
            if focus != (entry.order_id, entry.action):
                entry.order_id, entry.action = focus
                entry.since = at
                self.changes += bool(entry.owners)
            entry.at = at
        if op == "here":
            self.changes += not entry.owners
            entry.owners[msg["worker"]] = now + self.ttl

    def _drop_if_unclaimed(self, key: str, entry: Entry) -> None:
        if not entry.owners:
            del self.entries[key]
            self.changes += 1

    def expire(self, now: float) -> None:
        """Forget claims not renewed within the TTL, and unclaimed entries past theirs."""
        for key, entry in list(self.entries.items()):
            if entry.owners:
                for worker in [w for w, until in entry.owners.items() if until <= now]:
                    del entry.owners[worker]
                self._drop_if_unclaimed(key, entry)
            elif entry.expires <= now:
                del self.entries[key]

    def frame(self) -> bytes:
        """The ``event: presence`` frame of what is shown now (encoded once, O(admins))."""
        shown = sorted(
            (e for e in self.entries.values() if e.owners),
            key=lambda e: (e.username.casefold(), e.session),
        )
        body = {"admins": [e.public() for e in shown], "timestamp": isoformat(utcnow())}
        return sse.encode(body, event="presence")

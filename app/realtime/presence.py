"""Presence: which admins have a dashboard open, and which order each one is viewing or
acting on (docs/design.md §5a).

Every hub keeps a copy of the whole table (``PresenceBoard``), built from constant-size
messages on the backend (docs/design.md §5b: a user, a session, an order, an action; never
a list). ``session`` is a short hash of the server-side session id, never the id itself.

- ``here`` ``{worker, user_id, username, session, order_id, action, at}``: ``worker`` holds
  a dashboard stream of ``session``. Sent when its first one opens, renewed every
  ``PRESENCE_RENEW_SECONDS`` while one is open, with the focus the sender knows.
- ``gone`` ``{worker, session}``: that worker's last stream of the session closed,
  ``PRESENCE_LEAVE_GRACE_SECONDS`` ago (a stream that ends at its lifetime and comes
  straight back, on any worker, does not flicker).
- ``focus`` ``{user_id, username, session, order_id, action, at}``: the admin opened or
  closed an order's dialog (a request on any worker, or the stream's own URL).
- ``hello`` ``{worker}``: a hub (re)subscribed; every worker renews its entries at once.

An entry is shown while a worker's claim on it is younger than ``PRESENCE_TTL_SECONDS``:
a worker that dies without a word is forgotten within that time, as is a lost ``gone``.
A focus replaces another only when newer (``at``: the Unix time the request was taken).

A change costs O(admins): the table is encoded once into one ``event: presence`` frame,
``{admins: [{user_id, username, session, order_id, action, since}], timestamp}``, that
the hub fans out like its other frames (``since``: when the current focus began, ISO 8601,
``null`` without one). Frames are coalesced over ``PRESENCE_COALESCE_SECONDS``.
"""

import logging
import secrets
import threading
import time
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from app.metrics import PRESENCE_MESSAGES
from app.realtime.presence_board import PresenceBoard, session_key
from app.services.bodies import Refusal, check, refuse

log = logging.getLogger(__name__)

ACTIONS = ("viewing", "cancelling", "advancing")
ORDER_ID_MAX = 2**63 - 1


class FocusBody(BaseModel):
    """``{"order_id": int | null, "action": str | null}`` (``order_id`` required: a body
    without it says nothing). The action needs the order, so the model checks it once the
    id is valid."""

    model_config = ConfigDict(strict=True)

    order_id: Annotated[StrictInt, Field(gt=0, le=ORDER_ID_MAX)] | None
    action: Any = None

    @model_validator(mode="after")
    def _action(self) -> "FocusBody":
        if self.order_id is None:
            if self.action is not None:
                raise refuse("action", '"action" needs an "order_id"')
        elif self.action is None:
            self.action = "viewing"
        elif not isinstance(self.action, str) or self.action not in ACTIONS:
            raise refuse("action", f'"action" must be one of {", ".join(ACTIONS)}')
        return self


SEND_JSON = 'Send JSON {"order_id": <id or null>, "action": "viewing"}'
NOT_AN_ID = '"order_id" must be an order id (an integer) or null'
# The order the rules have always been checked in: the first one broken is the answer.
REFUSALS = (
    Refusal((), SEND_JSON, 400, ("model_type",)),
    Refusal(("order_id",), SEND_JSON, 400, ("missing",)),
    Refusal(("order_id",), NOT_AN_ID, 400, ("int_type",)),
    Refusal(("order_id",), '"order_id" must be a positive order id', 400),
    Refusal(types=("action",)),
)


def parse_presence(payload) -> tuple[int | None, str | None]:
    """``(order id, action)`` of a presence body (``FocusBody``): ``order_id`` a positive
    integer with ``action`` one of ``ACTIONS`` (default ``"viewing"``), or both ``None``
    (no order open). Raises ``Invalid``: 400 for a body that is not an object or has no
    ``order_id``, or a malformed id; 422 for an unknown action or one given without an
    order. One refusal per body: the first in ``REFUSALS``' order."""
    body = check(FocusBody, payload, REFUSALS)
    return body.order_id, body.action


def parse_focus(order_id, action) -> tuple[int | None, str | None]:
    """``parse_presence`` of a request's ``order_id`` and ``action`` given apart (a
    stream's ``?focus=``, already parsed by ``app.web.args.parse_int``)."""
    return parse_presence({"order_id": order_id, "action": action})


class Presence:
    """One hub's part: announces the sessions whose dashboard streams it holds, applies
    what every worker announces, and says when a new frame is due. ``step`` runs in the
    hub's loop; ``receive``, ``focus`` and ``hello`` may be called from any thread.

    Config keys (seconds): ``PRESENCE_RENEW_SECONDS``, ``PRESENCE_TTL_SECONDS``,
    ``PRESENCE_LEAVE_GRACE_SECONDS``, ``PRESENCE_COALESCE_SECONDS``.
    """

    def __init__(self, config, send):
        self.worker = secrets.token_hex(6)
        self.renew = config["PRESENCE_RENEW_SECONDS"]
        self.grace = config["PRESENCE_LEAVE_GRACE_SECONDS"]
        self.coalesce = config["PRESENCE_COALESCE_SECONDS"]
        self.board = PresenceBoard(config["PRESENCE_TTL_SECONDS"])
        self._send = send  # the backend's send(messages)
        self._lock = threading.Lock()
        self._inbox: list[dict] = []
        self._hello = False
        self._own: dict[str, tuple] = {}  # focus taken by this worker: key → (order, action, at)
        self._held: dict[str, tuple[int, str]] = {}  # sessions announced: key → (user, name)
        self._leaving: dict[str, float] = {}  # key → when to send its "gone"
        self._renew_at = self._expire_at = 0.0
        self._sent_changes = 0  # board.changes when the last frame went out
        self._sent_at = float("-inf")
        self._cache: tuple[int, bytes] | None = None

    # -- any thread ----------------------------------------------------------------------
    def receive(self, messages: list[dict]) -> None:
        with self._lock:
            self._inbox.extend(messages)

    def hello(self) -> None:
        """This hub just (re)subscribed: ask every worker to renew its entries now."""
        self._hello = True

    def focus(self, user_id: int, username: str, session_id, order_id, action) -> None:
        """Announce the session's focus (``order_id`` and ``action`` both ``None``: none)."""
        key = session_key(user_id, session_id)
        at = time.time()
        with self._lock:  # request threads write it, the hub's loop reads it
            self._own[key] = (order_id, action, at)
        msg = {"op": "focus", "user_id": user_id, "username": username, "session": key}
        self._publish([{**msg, "order_id": order_id, "action": action, "at": at}])

    # -- the hub's loop ------------------------------------------------------------------
    def step(self, now: float, local: dict | None) -> bytes | None:
        """Apply what arrived, announce this worker's changes (``local``: ``{(user id,
        session id): username}`` of the open dashboard streams, or ``None`` when unchanged
        since the last call) and return a frame when one is due."""
        with self._lock:
            inbox, self._inbox = self._inbox, []
        out, renew = [], now >= self._renew_at
        for msg in inbox:
            if msg.get("op") == "hello":
                renew = True
                continue
            try:
                self.board.apply(msg, now)
            except (KeyError, TypeError, ValueError):
                log.warning("ignoring a malformed presence message: %r", msg)
        if local is not None:
            out += self._diff(now, local)
        for key in [k for k, due in self._leaving.items() if due <= now]:
            del self._leaving[key]
            del self._held[key]
            with self._lock:
                self._own.pop(key, None)
            out.append({"op": "gone", "worker": self.worker, "session": key})
        if self._hello:
            self._hello = False
            out.append({"op": "hello", "worker": self.worker})
        if renew:
            self._renew_at = now + self.renew
            announced = {m["session"] for m in out if m["op"] == "here"}
            out += [self._here(key) for key in self._held if key not in announced]
        self._publish(out)
        if now >= self._expire_at:
            self._expire_at = now + min(0.5, self.renew / 3)
            self.board.expire(now)
            stale = time.time() - self.board.ttl
            with self._lock:
                for key in [
                    k for k, f in self._own.items() if k not in self._held and f[2] < stale
                ]:
                    del self._own[key]
        if self.board.changes != self._sent_changes and now >= self._sent_at + self.coalesce:
            self._sent_changes, self._sent_at = self.board.changes, now
            return self.frame()
        return None

    def deadline(self) -> float:
        """The monotonic time ``step`` next has something to do (absent a message)."""
        soonest = min(self._renew_at, self._expire_at, *self._leaving.values())
        if self.board.changes != self._sent_changes:
            soonest = min(soonest, self._sent_at + self.coalesce)
        return soonest

    def frame(self) -> bytes:
        """The current ``event: presence`` frame (for a new stream; cached per change)."""
        if self._cache is None or self._cache[0] != self.board.changes:
            self._cache = (self.board.changes, self.board.frame())
        return self._cache[1]

    def _diff(self, now: float, local: dict) -> list[dict]:
        out = []
        keys = {}
        for (user_id, session_id), username in local.items():
            keys[session_key(user_id, session_id)] = (user_id, username)
        for key, who in keys.items():
            self._leaving.pop(key, None)
            if key not in self._held:
                self._held[key] = who
                out.append(self._here(key))
        for key in self._held:
            if key not in keys and key not in self._leaving:
                self._leaving[key] = now + self.grace
        return out

    def _here(self, key: str) -> dict:
        user_id, username = self._held[key]
        entry = self.board.entries.get(key)
        focus = (entry.order_id, entry.action, entry.at) if entry else (None, None, 0.0)
        own = self._own.get(key)
        if own is not None and own[2] > focus[2]:
            focus = own
        order_id, action, at = focus
        return {
            "op": "here",
            "worker": self.worker,
            "user_id": user_id,
            "username": username,
            "session": key,
            "order_id": order_id,
            "action": action,
            "at": at,
        }

    def _publish(self, messages: list[dict]) -> None:
        if not messages:
            return
        for message in messages:
            PRESENCE_MESSAGES.labels(message["op"]).inc()
        try:
            self._send([{"type": "presence", **m} for m in messages])
        except Exception as exc:  # best effort: the next renewal repairs what was lost
            log.warning("presence: sending %d message(s) failed: %s", len(messages), exc)

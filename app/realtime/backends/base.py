"""The backend contract (``Backend``) and the wire form of backend messages.

See the package docstring for the messages and docs/design.md §5b for their size rule.
"""

import json
from typing import Protocol, runtime_checkable

# PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more (docs: NOTIFY).
MAX_PAYLOAD_BYTES = 7999


@runtime_checkable
class Backend(Protocol):
    """What the hub needs from a backend (local, Redis, PostgreSQL).

    Every message sent through a backend reaches ``hub.on_message`` of every worker's hub
    that is listening, this process's included, in the order one sender sent them.
    """

    name: str

    def start(self) -> None:
        """Begin listening (idempotent); called when the worker's first stream opens. Once
        listening (and after every reconnect) the backend calls ``hub.on_message(RESYNC)``."""

    def stop(self) -> None:
        """Stop listening (worker exit, tests)."""

    def ping(self) -> None:
        """Raise when the backend's server does not answer (readiness probe)."""

    def is_listening(self) -> bool:
        """Whether messages from other processes reach this hub now (subscribed)."""

    def publish(self, changes: list[dict]) -> None:
        """After a commit: announce its outbox ``changes`` to every hub."""

    def notify_in_transaction(self, session, changes: list[dict]) -> None:
        """Inside the committing transaction of SQLAlchemy ``session`` (before COMMIT):
        backends whose delivery belongs to the transaction (PostgreSQL) send it here."""

    def send(self, messages: list[dict]) -> None:
        """Control messages outside any transaction (presence), each delivered as its own
        message. Raises ``ValueError`` for a message over ``MAX_PAYLOAD_BYTES``; a
        backend whose server is away raises its own error (the caller logs it)."""


RESYNC = [{"type": "resync"}]


def encode(messages: list[dict]) -> str:
    """The wire form of a list of messages (compact JSON); ``ValueError`` past the limit."""
    payload = json.dumps(messages, separators=(",", ":"))
    if len(payload.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"a backend message is limited to {MAX_PAYLOAD_BYTES} bytes")
    return payload

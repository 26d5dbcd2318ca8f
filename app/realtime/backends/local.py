"""The in-process backend: one worker (and tests). Commits of other processes (SQLite)
are found by the hub's version poll."""

from app.realtime.backends.base import RESYNC


class LocalBackend:
    """``publish`` and ``send`` wake this process's hub directly; nothing to listen to."""

    name = "local"

    def __init__(self, hub):
        self.hub = hub

    def publish(self, changes: list[dict]) -> None:
        self.hub.on_message(changes)

    def notify_in_transaction(self, session, changes: list[dict]) -> None:
        """Nothing to do inside the transaction for this backend."""

    def send(self, messages: list[dict]) -> None:
        self.hub.on_message(messages)

    def ping(self) -> None:
        """Nothing to reach: always ready."""

    def is_listening(self) -> bool:
        return True

    def start(self) -> None:
        """Nothing to subscribe to; the hub reads the database once, as after a reconnect."""
        self.hub.on_message(RESYNC)

    def stop(self) -> None:
        pass

"""One log line when a dependency (the database, Redis) becomes unreachable and one when it
is back, per worker process, instead of a traceback per request or commit
(docs/operations.md, "What an outage looks like"). The state is also a metric
(``orderpulse_dependency_up``) for the alert rules in ``deploy/monitoring/``."""

import logging
import threading
import time

import sqlalchemy.exc as sa_exc

from app.metrics import DEPENDENCY_UP

log = logging.getLogger("orderpulse.outage")


class Outage:
    """The reachability of one dependency in this process. ``failed(error)`` logs the first
    failure of an outage (one line, no traceback: the cause is the server, not our code);
    ``ok()`` logs the recovery with the outage's length and how many operations failed."""

    def __init__(self, name: str):
        self.name = name
        self.since: float | None = None  # monotonic time of the first failure
        self.failures = 0
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        return self.since is not None

    def failed(self, error: BaseException | str, where: str = "") -> None:
        with self._lock:
            self.failures += 1
            first = self.since is None
            if first:
                self.since = time.monotonic()
        DEPENDENCY_UP.labels(self.name).set(0)
        if first:
            context = f" ({where})" if where else ""
            log.error("%s unreachable%s: %s", self.name, context, _one_line(error))

    def ok(self) -> None:
        if self.since is None:  # the usual case costs one attribute read
            return
        with self._lock:
            if self.since is None:
                return
            took, failures = time.monotonic() - self.since, self.failures
            self.since, self.failures = None, 0
        DEPENDENCY_UP.labels(self.name).set(1)
        log.warning(
            "%s reachable again after %.1f s (%d failed operation(s))", self.name, took, failures
        )


def reset_all() -> None:
    """Forget every outage (tests: many apps share one process)."""
    for outage in (DATABASE, REDIS):
        outage.since, outage.failures = None, 0


def unreachable(exc: BaseException) -> bool:
    """A database error that means "not reachable now" rather than a bug: any
    ``OperationalError`` (refused, lost, shutting down), a pool timeout, or a driver error
    SQLAlchemy recognised as a disconnect (``app.errors.is_unavailable`` answers 503 for the
    same errors)."""
    if isinstance(exc, (sa_exc.OperationalError, sa_exc.TimeoutError)):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and bool(exc.connection_invalidated)


def _one_line(error: BaseException | str) -> str:
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    kind = type(error).__name__ if isinstance(error, BaseException) else ""
    return f"{kind}: {first}" if kind else first


DATABASE = Outage("database")
REDIS = Outage("redis")

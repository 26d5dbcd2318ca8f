"""Small pieces of the hub's loop: when to wake next, and logging failures without flooding
the log during an outage."""

import logging
import sys
import time


class Schedule:
    """Named periodic deadlines on the monotonic clock, e.g. ``Schedule(now, poll=1.0,
    heartbeat=15.0)`` (seconds). ``timeout`` says how long the loop may sleep; ``due``
    says whether a deadline has passed and, if so, sets the next one."""

    def __init__(self, now: float, **intervals: float):
        self.intervals = intervals
        self.deadlines = {name: now + every for name, every in intervals.items()}

    def timeout(self, now: float, extra: float | None = None) -> float:
        """Seconds until the earliest deadline (or ``extra``, another deadline), ≥ 0."""
        soonest = min(self.deadlines.values())
        if extra is not None:
            soonest = min(soonest, extra)
        return max(0.0, soonest - now)

    def due(self, name: str, now: float) -> bool:
        if now < self.deadlines[name]:
            return False
        self.deadlines[name] = now + self.intervals[name]
        return True


class ErrorLog:
    """Log a failing loop's first error with its traceback, then at most one line per
    ``every`` seconds with how many failures happened since, and one line on recovery:
    an hour-long database outage costs a few dozen lines, not one traceback a second."""

    def __init__(self, logger: logging.Logger, what: str, every: float = 60.0):
        self.log, self.what, self.every = logger, what, every
        self.failures = 0
        self._since = 0  # failures since the last line
        self._last = 0.0

    def report(self) -> None:
        """Call from an ``except`` block."""
        now = time.monotonic()
        self.failures += 1
        self._since += 1
        if self.failures == 1:
            self.log.exception("%s; retrying", self.what)
            self._since, self._last = 0, now
        elif now - self._last >= self.every:
            self.log.warning(
                "%s %d more time(s) in the last %.0f s, last: %s (still retrying)",
                self.what,
                self._since,
                now - self._last,
                sys.exc_info()[1],
            )
            self._since, self._last = 0, now

    def recovered(self) -> None:
        if self.failures:
            self.log.warning("%s: recovered after %d failure(s)", self.what, self.failures)
            self.failures = self._since = 0

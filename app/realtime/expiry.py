"""Housekeeping's walk over the open streams: ends those past their lifetime
(``SSE_LIFETIME_SECONDS``) or whose client left, and resets those whose backlog waited past
``SSE_WRITE_TIMEOUT_SECONDS``.

A pass looks at ``SLICE`` streams at most and a round of passes covers them all, so that
20,000 idle customers' streams cost housekeeping a fifth of a full walk per pass (a full
walk every second was a fifth of an idle worker's CPU); a stream is looked at every
``ceil(n / SLICE)`` passes, at most 10 s late with the default settings, well within both
limits. Streams opened during a round wait for the next round.
"""

from collections.abc import Callable

from app.realtime.subscription import Subscription

SLICE = 2000


class ExpiryWalk:
    """``step(now)`` once per housekeeping pass; ``streams()`` gives every open stream."""

    def __init__(self, streams: Callable[[], list[Subscription]], write_timeout: float):
        self.streams = streams
        self.write_timeout = write_timeout
        self._round: list[Subscription] = []  # the streams of this round
        self._next = 0  # where the next pass starts in it

    def step(self, now: float) -> None:
        """End or reset the next slice's streams that are due (see the module docstring)."""
        if self._next >= len(self._round):
            self._round, self._next = self.streams(), 0
        start, self._next = self._next, self._next + SLICE
        for sub in self._round[start : self._next]:
            if (sub.deadline <= now or sub.dead) and not sub.closed:
                sub.close()
            if sub.stalled(now, self.write_timeout):  # handed over: no greenlet times it out
                sub.drop()

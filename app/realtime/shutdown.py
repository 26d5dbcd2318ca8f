"""Ending a worker's streams without a reconnect stampede (docs/design.md §5b).

A deploy (``kill -HUP``, a release switch) ends every stream of the old workers. Ended in
one instant, 10,000 clients reconnect to the replacement within the same second or two
(their backoff), which then serves them one after another on one core while the kernel's
accept queue overflows (each dropped SYN costs its client a second or more). Here the
streams end over ``SSE_SHUTDOWN_SPREAD_SECONDS``, a random slice every ``STEP`` seconds, and
each ends with a ``retry:`` drawn from ``[SSE_RETRY_MS, 1.5 × SSE_RETRY_MS]``, so that the
reconnects arrive at about the rate the new worker serves them.
"""

import random
import time

STEP = 0.05  # seconds between two slices of streams ending
JITTER = 0.5  # a stream's closing retry: is up to this fraction above SSE_RETRY_MS


def jittered(retry_ms: int) -> int:
    """The ``retry:`` a stream ends with, in milliseconds: ``retry_ms`` plus up to
    ``JITTER`` of it, so that clients ended together do not come back together."""
    return int(retry_ms) + random.randint(0, int(retry_ms * JITTER))


def end_spread(subs: list, seconds: float, sleep=None) -> int:
    """Close ``subs`` in random order over ``seconds``: one slice every ``STEP`` (under
    gevent ``sleep`` yields to the loop, which meanwhile sends each ended stream its
    ``retry:``). Returns how many slices there were; ``seconds`` ≤ 0 ends all at once."""
    sleep = sleep or time.sleep  # looked up now: gevent's, in a gunicorn worker
    subs = list(subs)
    random.shuffle(subs)
    slices = max(1, min(len(subs), int(seconds / STEP)))
    pause = seconds / slices if slices > 1 else 0.0
    for index in range(slices):
        if index:
            sleep(pause)
        for sub in subs[index * len(subs) // slices : (index + 1) * len(subs) // slices]:
            sub.close()
    return slices

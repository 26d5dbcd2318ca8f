"""CPU-heavy calls (password hashing) off the gevent event loop.

A scrypt hash takes ~0.1 s of CPU. Under gunicorn's gevent worker every stream, the hub and
``/healthz`` share one thread, so 60 hashes run on the loop stalled them all for seconds.
``hashlib``'s scrypt and PBKDF2 release the GIL, so in a native thread they run beside the
loop. The pool is small and bounded (``PASSWORD_HASH_THREADS``, default 1: one of this
machine's two cores, per worker), and its threads run at a lower priority: a burst queues
for it instead of taking every core from the streams, and each scrypt hash holds 32 MiB
while it runs. Without gevent's monkey-patching (tests, the CLI, the development server)
calls run directly. Figures: bench/auth_burst_bench.py.
"""

import contextlib
import os
import sys

_pool = None
HASH_NICENESS = 10  # added to the process's nice value in the hash threads (max 19)
_nice_base = 0


def patched() -> bool:
    """True inside a gevent worker (the standard library's threading is monkey-patched)."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("threading")


def run(fn, *args):
    """``fn(*args)``: in the bounded native thread pool under gevent (the calling greenlet
    waits, the loop keeps serving), directly otherwise. Exceptions propagate.
    ``PASSWORD_HASH_THREADS=0`` runs on the loop even under gevent: only for comparison in
    bench/auth_burst_bench.py."""
    if not patched() or _threads() == 0:
        return fn(*args)
    return _threadpool().apply(_at_low_priority, (fn, args))


def _at_low_priority(fn, args):
    # Runs in a pool thread. Linux keeps a nice value per thread: at +10 the scheduler lets
    # the event loop's thread (nice 0) run first whenever it has work, so on a busy box a
    # burst of hashes takes the idle CPU, not the streams' (measured: bench/auth_burst_bench).
    with contextlib.suppress(OSError, AttributeError):  # not Linux: plain priority
        os.setpriority(os.PRIO_PROCESS, 0, _nice_base + HASH_NICENESS)
    return fn(*args)


def _threads() -> int:
    return max(0, int(os.environ.get("PASSWORD_HASH_THREADS", "1")))


def _threadpool():
    global _pool, _nice_base
    if _pool is None:
        from gevent.threadpool import ThreadPool

        with contextlib.suppress(OSError, AttributeError):
            _nice_base = os.getpriority(os.PRIO_PROCESS, 0)

        # A pool of its own, not the hub's: gevent resolves host names in the hub's pool,
        # and a burst of hashes must not delay a database or Redis (re)connect.
        _pool = ThreadPool(maxsize=_threads())
    return _pool

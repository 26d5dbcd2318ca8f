"""CPU-heavy calls (password hashing) off the gevent event loop (issue 11, finding 5).

A scrypt hash takes ~0.1 s of CPU. Under gunicorn's gevent worker every stream, the hub and
``/healthz`` share one thread, so 60 hashes run on the loop stalled them all for seconds.
``hashlib``'s scrypt and PBKDF2 release the GIL, so in a native thread they run beside the
loop. The pool is small and bounded (``PASSWORD_HASH_THREADS``, default 2, one per core
here): a burst queues for it instead of taking every core, and each scrypt hash holds
32 MiB while it runs. Without gevent's monkey-patching (tests, the CLI, the development
server) calls run directly.
"""

import os
import sys

_pool = None


def patched() -> bool:
    """True inside a gevent worker (the standard library's threading is monkey-patched)."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("threading")


def run(fn, *args):
    """``fn(*args)``: in the bounded native thread pool under gevent (the calling greenlet
    waits, the loop keeps serving), directly otherwise. Exceptions propagate."""
    if not patched():
        return fn(*args)
    return _threadpool().apply(fn, args)


def _threadpool():
    global _pool
    if _pool is None:
        from gevent.threadpool import ThreadPool

        # A pool of its own, not the hub's: gevent resolves host names in the hub's pool,
        # and a burst of hashes must not delay a database or Redis (re)connect.
        _pool = ThreadPool(maxsize=max(1, int(os.environ.get("PASSWORD_HASH_THREADS", "2"))))
    return _pool

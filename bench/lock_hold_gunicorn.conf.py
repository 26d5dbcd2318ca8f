"""gunicorn settings for ``checkout_bench.py --lock-hold``: the project's own
``gunicorn.conf.py`` plus a probe in each worker that times how long every transaction
holds the counter rows every order write locks.

For each transaction (one greenlet: gevent makes ``threading.local`` per greenlet) it notes
when the first statement on a watched table returned, i.e. when that row's lock was held,
and how long that statement took (the wait for the lock is inside it); at COMMIT or ROLLBACK
the hold is "now" minus that moment. Two kinds of rows are watched:

- ``counter``: any row of ``order_counts`` / ``revenue_buckets`` (before sharding every
  order write locked the same ``total`` row and the same bucket row);
- ``version``: the one statement that hands out the change version (``order_versions``
  after sharding; before it, the ``order_counts`` total row was both).

Each worker appends its samples (milliseconds) to ``$BENCH_LOCK_HOLD_DIR/<pid>.json`` when
it exits; the harness reads them after stopping the server.
"""

import json
import os
import re
import threading
import time
from pathlib import Path

_here = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
__file__ = str(_here)  # the project's settings find config.py beside themselves
exec(compile(_here.read_text(), str(_here), "exec"))  # noqa: S102  (the project's settings)

_project_post_worker_init = post_worker_init  # noqa: F821  (defined by the exec above)
WATCHED = {
    "counter": re.compile(r"\b(order_counts|revenue_buckets)\b", re.I),
    "version": re.compile(r"\border_versions\b|UPDATE order_counts SET .*version", re.I | re.S),
}
WRITES = re.compile(r"^\s*(WITH\b.*\bUPDATE\b|UPDATE|INSERT)", re.I | re.S)


def post_worker_init(worker):  # noqa: F811  (wraps the project's hook)
    _project_post_worker_init(worker)
    import sqlalchemy as sa
    import sqlalchemy.orm as so

    local = threading.local()
    samples = {f"{kind}_{what}": [] for kind in WATCHED for what in ("hold_ms", "stmt_ms")}

    def before(conn, cursor, statement, parameters, context, executemany):
        local.started = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        if not WRITES.match(statement):
            return
        now = time.perf_counter()
        held = getattr(local, "held", None)
        if held is None:
            held = local.held = {}
        for kind, pattern in WATCHED.items():
            if kind not in held and pattern.search(statement):
                held[kind] = now
                samples[f"{kind}_stmt_ms"].append((now - local.started) * 1000)

    def ended(session, *args):
        held = getattr(local, "held", None)
        if not held:
            return
        now = time.perf_counter()
        for kind, since in held.items():
            samples[f"{kind}_hold_ms"].append((now - since) * 1000)
        local.held = None

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", before)
    sa.event.listen(sa.engine.Engine, "after_cursor_execute", after)
    sa.event.listen(so.Session, "after_commit", ended)
    sa.event.listen(so.Session, "after_rollback", ended)
    worker._lock_hold_samples = samples


def worker_exit(server, worker):
    samples = getattr(worker, "_lock_hold_samples", None)
    folder = os.environ.get("BENCH_LOCK_HOLD_DIR")
    if samples is not None and folder:
        Path(folder, f"{os.getpid()}.json").write_text(json.dumps(samples))

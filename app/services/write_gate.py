"""A per-worker bound on concurrent order-writing transactions.

Every order write ends by taking the ``order_versions`` row's lock (the change version) and
holding it until commit. Under gevent, a lock holder waits for the event loop between its
statements; with dozens of requests busy in one worker, each wait is long and every other
writer queues on the lock behind it (a convoy). Letting only a few writers run at once keeps
the loop short, so the holder commits promptly. Measured in ``bench/checkout_bench.py``.
"""

import threading

import sqlalchemy.orm as so
from flask import Flask, current_app

from app.extensions import db, listen_once

KEY = "order_write_gate"


def init_app(app: Flask) -> None:
    """One semaphore per app (per worker) of ``ORDER_WRITE_CONCURRENCY`` slots."""
    app.extensions[KEY] = threading.BoundedSemaphore(app.config["ORDER_WRITE_CONCURRENCY"])
    listen_once(so.Session, {"after_transaction_end": _leave})


def enter() -> None:
    """Hold a slot until the current transaction ends (commit, rollback or close).
    Re-entrant within one session, so a service may call another."""
    session = db.session()
    if KEY in session.info:
        return
    gate = current_app.extensions[KEY]
    gate.acquire()
    session.info[KEY] = gate


def _leave(session: so.Session, transaction) -> None:
    if transaction.parent is None:
        gate = session.info.pop(KEY, None)
        if gate is not None:
            gate.release()

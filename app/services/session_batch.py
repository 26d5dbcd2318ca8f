"""Stream requests' session lookups, batched: in a reconnect storm (a restart, a deploy)
thousands of streams a second come back with sessions this worker has not cached, and one
query each queued them for the pool's few connections until the pool timed them out.

A lookup that finds no batch open opens one and yields once (under gevent the other
requests of this turn of the event loop then reach their lookups and join it), then reads
every session of the batch in one query; the others wait for that query's rows. At most
``MAX_BATCH`` sessions a query. Outside gevent (tests, ``flask run``) a batch is mostly one
lookup, and costs what the single query did.
"""

import threading
import time

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import User, UserSession
from app.services.session_ids import each_of

MAX_BATCH = 500


class _Batch:
    def __init__(self):
        self.ids: set[str] = set()
        self.done = threading.Event()
        self.rows: dict[str, sa.Row] = {}
        self.error: BaseException | None = None


_lock = threading.Lock()
# The batch lookups may join, per database (tests run several apps in one process).
_open: dict[object, _Batch] = {}


def _yield() -> None:
    time.sleep(0)  # gevent: one turn of the event loop, so this turn's lookups join


def principal_row(user_id: int, session_id: str, alive):
    """``(username, role, created_at, last_seen_at)`` of the session ``session_id`` of the
    active user ``user_id`` where ``alive`` holds (``session_expiry.alive(now)``: the session
    has not expired); ``None`` when there is none. Raises what the batch's query raised
    (a pool timeout: ``sqlalchemy.exc.TimeoutError``), also when it waited longer than
    ``DATABASE_POOL_TIMEOUT_SECONDS`` + 5 s for another request's query."""
    engine = db.engine
    with _lock:
        batch = _open.get(engine)
        leader = batch is None or len(batch.ids) >= MAX_BATCH
        if leader:
            batch = _open[engine] = _Batch()
        batch.ids.add(session_id)
    if leader:
        _read(engine, batch, alive)
    elif not batch.done.wait(current_app.config["DATABASE_POOL_TIMEOUT_SECONDS"] + 5):
        raise sa.exc.TimeoutError("a batched session lookup waited too long")
    if batch.error is not None:
        raise batch.error
    row = batch.rows.get(session_id)
    if row is None or row.user_id != user_id:
        return None
    return row.username, row.role, row.created_at, row.last_seen_at


def _read(engine, batch: _Batch, alive) -> None:
    _yield()
    with _lock:
        if _open.get(engine) is batch:
            del _open[engine]  # closed: later lookups open the next one
    try:
        wanted = each_of(sorted(batch.ids))
        rows = db.session.execute(
            sa.select(
                UserSession.id.label("session_id"),
                User.id.label("user_id"),
                User.username,
                User.role,
                UserSession.created_at,
                UserSession.last_seen_at,
            )
            .join(User, User.id == UserSession.user_id)
            .where(UserSession.id == wanted, User.active.is_(True), alive)
        ).all()
        batch.rows = {row.session_id: row for row in rows}
    except BaseException as exc:  # every waiting lookup gets it (a pool timeout: retry)
        batch.error = exc
        raise
    finally:
        batch.done.set()

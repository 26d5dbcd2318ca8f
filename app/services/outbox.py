"""What a transaction changed, announced only once it commits (the transactional outbox).

Services call ``record`` inside their transaction. Two blinker signals (Flask's signalling
library) then tell whoever listens, without the services knowing who that is:

- ``committing(session, changes=[...])`` just before COMMIT, inside the transaction: a
  listener may add to it (PostgreSQL's ``pg_notify`` is delivered exactly when the
  transaction commits, and never if it rolls back);
- ``committed(app, changes=[...])`` after COMMIT.

A rollback drops what was recorded, so no listener ever hears of a change that was not
written. ``app.realtime`` subscribes in its ``init_app``.

A change is a dict with a ``type``: ``{"type": "orders", "version": int}`` after an order
write (``version`` is the change version it committed as, ``order_versions``), ``{"type":
"revoke", "user_id": int, "session_id": str | None, "keep": str | None, "reason": str}``
when sessions end (``app.services.sessions.revoke_message``: one session, or all of a user's
but ``keep``).
"""

import weakref

import sqlalchemy.orm as so
from blinker import Namespace
from flask import Flask, current_app, has_app_context

from app.extensions import db, listen_once

KEY = "outbox"
_signals = Namespace()
committing = _signals.signal("outbox-committing")
committed = _signals.signal("outbox-committed")


def record(change: dict) -> None:
    """Add ``change`` to the current transaction's outbox."""
    db.session.info.setdefault(KEY, []).append(change)


def order_written(version: int) -> None:
    """Record that an order write committed as ``version`` (one per transaction is kept:
    the newest, since listeners read everything up to it from the database)."""
    changes = db.session.info.setdefault(KEY, [])
    for change in changes:
        if change["type"] == "orders":
            change["version"] = max(change["version"], version)
            return
    changes.append({"type": "orders", "version": version})


MARKS = "outbox_savepoints"


def _outermost(session: so.Session) -> bool:
    # Savepoints (``begin_nested``) fire the commit events too; only the real COMMIT counts.
    return session.get_nested_transaction() is None


def _before_commit(session: so.Session) -> None:
    changes = session.info.get(KEY)
    if changes and _outermost(session):
        committing.send(session, changes=changes)


def _after_commit(session: so.Session) -> None:
    if not _outermost(session):
        return
    changes = session.info.pop(KEY, None)
    if changes and has_app_context():
        committed.send(current_app._get_current_object(), changes=changes)


def _mark_savepoint(session: so.Session, transaction) -> None:
    if transaction.nested:
        # Weak keys: a savepoint's mark goes when the savepoint does (the rollback event
        # comes after the savepoint is closed, so it cannot be dropped at its end).
        marks = session.info.setdefault(MARKS, weakref.WeakKeyDictionary())
        marks[transaction] = len(session.info.get(KEY, ()))


def _drop_rolled_back(session: so.Session, previous_transaction) -> None:
    """A rolled-back savepoint drops what was recorded inside it; a rolled-back
    transaction drops everything."""
    if previous_transaction.nested:
        mark = session.info.get(MARKS, {}).get(previous_transaction)
        if mark is not None and KEY in session.info:
            del session.info[KEY][mark:]
    elif previous_transaction.parent is None:
        session.info.pop(KEY, None)


def init_app(app: Flask) -> None:
    """Hook the outbox into SQLAlchemy's Session events (process-wide, registered once)."""
    listen_once(
        so.Session,
        {
            "before_commit": _before_commit,
            "after_commit": _after_commit,
            "after_transaction_create": _mark_savepoint,
            "after_soft_rollback": _drop_rolled_back,
        },
    )

"""Data snapshots: what a fixture's builder writes, recorded the first time and written
back by later tests, when the database is in the state the builder first ran on.

``seed_shop`` makes three users and four products through the real services, a commit
each (34 ms a test on PostgreSQL); ``test_keyset_paging``'s sixty orders took 0.7 s a
test. The first test of a process that needs one runs its builder for real and records
what it changed (rows added, changed and deleted in every table, PostgreSQL's sequences);
later tests get those changes back in one transaction, and the builder's return value
(plain values: ids, names) again.

A snapshot is only written back on the state it was recorded on. Each database (a SQLite
file, this run's PostgreSQL database) has a known state while nothing but ``fresh`` and
snapshots wrote to it: the names of the snapshots written since ``make_app`` emptied it, in
order. Any other write through SQLAlchemy in this process (an ``INSERT``, ``UPDATE``,
``DELETE``, DDL, a sequence moved; a rolled back one too) makes the state unknown, and then
the builder runs for real. Snapshots are also keyed by the database's kind, the app's plain
config values and the password hash function in use (a test that hashes differently gets a
real build), and by the quarter hour (``_slot``). Timestamps from the build's start on (the
clock's, and what was computed from it: an order's estimated delivery a day later) come
back moved by the time since the build ended, as if it had just ended: a user made by a
snapshot was created "now", as a real build's would be, and an order the test places is
newer than anything the build wrote; earlier dates (a builder's ``now=START``) come back
unchanged. Not seen: writes by other processes, or by raw DBAPI connections, before a
snapshot fixture (no fixture does that)."""

import copy
import threading
import weakref
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask import Flask

from app.extensions import db
from app.models import user as user_model
from app.models.timestamps import utcnow

# database key -> names of the snapshots written since it was emptied; None: unknown.
_states: dict[str, tuple | None] = {}
_snapshots: dict[tuple, "Snapshot"] = {}
_building = threading.local()
_READS = ("SELECT", "PRAGMA", "SHOW", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@dataclass
class Snapshot:
    """What one build changed. Rows are column-name dicts; ``keys`` are primary keys."""

    value: object
    started: datetime
    ended: datetime
    deleted: dict[str, list[dict]] = field(default_factory=dict)  # table -> keys
    inserted: dict[str, list[dict]] = field(default_factory=dict)  # table -> rows
    updated: dict[str, list[tuple[dict, dict]]] = field(default_factory=dict)  # (key, changes)
    sequences: dict[str, tuple[int, bool]] = field(default_factory=dict)  # name -> setval args


def database_key(engine: sa.Engine) -> str:
    """One key per database, whichever driver or engine reaches it."""
    key = _keys.get(engine)
    if key is None:
        url = engine.url
        key = _keys[engine] = url.set(drivername=url.get_backend_name()).render_as_string()
    return key


_keys: "weakref.WeakKeyDictionary[sa.Engine, str]" = weakref.WeakKeyDictionary()


def fresh(engine: sa.Engine) -> None:
    """``make_app`` made this database empty (schema and counter rows only)."""
    _states[database_key(engine)] = ()


@sa.event.listens_for(sa.Engine, "before_cursor_execute")
def _watch_writes(conn, _cursor, statement, _parameters, _context, _executemany):
    if getattr(_building, "active", False):
        return
    head = statement.lstrip()[:10].upper()
    lowered = statement.lower()
    if not head.startswith(_READS) or "setval" in lowered or "nextval" in lowered:
        _states[database_key(conn.engine)] = None


def restore_or_build(app: Flask, name: str, build):
    """``build(app)``'s return value, and its writes in ``app``'s database: written back
    from a snapshot when one was recorded on the state the database is in, else by
    running ``build`` (and recording it when the state is known)."""
    if getattr(_building, "active", False):
        return build(app)  # inside another build, which records this one's writes too
    with app.app_context():
        engine = db.engine
    database = database_key(engine)
    state = _states.get(database)
    if state is None:
        return build(app)
    config = tuple(
        sorted(
            (k, v)
            for k, v in app.config.items()
            if isinstance(v, str | int | float | bool) and k != "SQLALCHEMY_DATABASE_URI"
        )
    )
    key = (engine.dialect.name, state, name, config, user_model.generate_password_hash, _slot())
    snapshot = _snapshots.get(key)
    _building.active = True
    try:
        if snapshot is not None:
            with engine.begin() as connection:
                _write_back(connection, snapshot)
            value = snapshot.value
        else:
            with engine.connect() as connection:
                before = _dump(connection)
            started = utcnow()
            value = build(app)
            ended = utcnow()
            with engine.connect() as connection:
                after = _dump(connection)
            if _states.get(database) == state and key[-1] == _slot():  # nothing else wrote
                _snapshots[key] = _diff(before, after, copy.deepcopy(value), started, ended)
    finally:
        _building.active = False
    if _states.get(database) == state:
        _states[database] = (*state, name)
    return copy.deepcopy(value)


def _slot() -> datetime:
    """The quarter hour now is in: snapshots are kept per quarter, so that none is written
    back across midnight in any time zone (an order's number has the day it was placed
    in, as the shop's zone has it, and its date would have moved on)."""
    now = utcnow()
    return now.replace(minute=now.minute // 15 * 15, second=0, microsecond=0)


def _sequences(connection: sa.Connection) -> list[str]:
    if connection.dialect.name != "postgresql":
        return []
    return (
        connection.exec_driver_sql(
            "SELECT relname FROM pg_class WHERE relkind = 'S' ORDER BY relname"
        )
        .scalars()
        .all()
    )


def _dump(connection: sa.Connection) -> dict:
    """Every table's rows by primary key, and ``{"sequences": {name: (value, called)}}``."""
    dump = {}
    for table in db.metadata.sorted_tables:
        keys = [c.name for c in table.primary_key.columns]
        rows = connection.execute(sa.select(table)).mappings()
        dump[table.name] = {tuple(row[k] for k in keys): dict(row) for row in rows}
    names = _sequences(connection)
    if names:
        columns = ", ".join(f'(SELECT last_value FROM "{n}"), (SELECT is_called FROM "{n}")'
                            for n in names)  # fmt: skip
        values = connection.exec_driver_sql(f"SELECT {columns}").one()
        dump["sequences"] = {n: (values[2 * i], values[2 * i + 1]) for i, n in enumerate(names)}
    return dump


def _diff(before: dict, after: dict, value, started: datetime, ended: datetime) -> Snapshot:
    snapshot = Snapshot(value, started, ended)
    for table in db.metadata.sorted_tables:
        old, new = before[table.name], after[table.name]
        keys = [c.name for c in table.primary_key.columns]
        if gone := [dict(zip(keys, k, strict=True)) for k in old if k not in new]:
            snapshot.deleted[table.name] = gone
        if added := [row for k, row in new.items() if k not in old]:
            snapshot.inserted[table.name] = added
        changed = [
            (dict(zip(keys, k, strict=True)), {c: v for c, v in row.items() if old[k][c] != v})
            for k, row in new.items()
            if k in old and old[k] != row
        ]
        if changed:
            snapshot.updated[table.name] = changed
    old, new = before.get("sequences", {}), after.get("sequences", {})
    snapshot.sequences = {n: v for n, v in new.items() if old.get(n) != v}
    return snapshot


def _write_back(connection: sa.Connection, snapshot: Snapshot) -> None:
    """Deletes (children first), inserts (parents first), updates, sequences: one
    transaction, a statement per table and kind, one per changed row."""
    shift = utcnow() - snapshot.ended  # as if the build had just ended

    def now(values: dict) -> dict:
        return {
            c: v + shift if isinstance(v, datetime) and v >= snapshot.started else v
            for c, v in values.items()
        }  # fmt: skip

    tables = db.metadata.sorted_tables
    for table in reversed(tables):
        for key in snapshot.deleted.get(table.name, ()):
            connection.execute(table.delete().where(*(table.c[c] == v for c, v in key.items())))
    for table in tables:
        if rows := snapshot.inserted.get(table.name):
            connection.execute(table.insert(), [now(row) for row in rows])
    for table in tables:
        for key, changes in snapshot.updated.get(table.name, ()):
            where = (table.c[c] == v for c, v in key.items())
            connection.execute(table.update().where(*where).values(now(changes)))
    if snapshot.sequences:
        calls = ", ".join(f"setval('\"{n}\"', {int(v)}, {bool(c)})"
                          for n, (v, c) in snapshot.sequences.items())  # fmt: skip
        connection.exec_driver_sql(f"SELECT {calls}")

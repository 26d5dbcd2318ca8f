"""Stream requests' session lookups read together (``app/services/session_batch.py``): the
lookups that meet in one turn of the event loop make one query, and each gets its own
session's answer (or none)."""

import threading

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import User
from app.models.timestamps import utcnow
from app.services import session_batch, session_expiry, sessions
from tests.helpers import logged_in_client, wait_until
from tests.test_stream import ADMIN_STREAM


def started_sessions(app, usernames) -> dict[str, tuple[int, str]]:
    with app.app_context():
        made = {}
        for name in usernames:
            user = db.session.scalar(sa.select(User).where(User.username == name))
            made[name] = (user.id, sessions.start(user).id)
        db.session.commit()
        db.session.remove()
    return made


def test_lookups_that_meet_make_one_query_and_get_their_own_answers(app, shop, monkeypatch):
    made = started_sessions(app, ["alice", "bob", "boss"])
    asks = [*made.values(), (made["alice"][0], made["bob"][1]), (made["bob"][0], "no-such")]
    # The leader's yield lasts until every lookup has joined its batch (under gevent, one
    # turn of the event loop; here, threads).
    joined = lambda: sum(len(b.ids) for b in session_batch._open.values())  # noqa: E731
    monkeypatch.setattr(
        session_batch, "_yield", lambda: wait_until(lambda: joined() == 4, what="4 joined")
    )
    queries, answers = [], {}

    def ask(i, user_id, session_id):
        with app.app_context():
            alive = session_expiry.alive(utcnow())
            answers[i] = session_batch.principal_row(user_id, session_id, alive)
            db.session.remove()

    def count(conn, cursor, statement, *args):
        if "user_sessions" in statement:
            queries.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        threads = [threading.Thread(target=ask, args=(i, *a)) for i, a in enumerate(asks)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len(queries) == 1, "one query for the four distinct sessions"
    assert [answers[i] and answers[i][0] for i in range(5)] == ["alice", "bob", "boss", None, None]


def test_an_error_reaches_every_lookup_of_the_batch(app, shop, monkeypatch):
    made = started_sessions(app, ["alice"])

    def broken(*args, **kwargs):
        raise sa.exc.TimeoutError("pool exhausted")

    monkeypatch.setattr(session_batch.db.session, "execute", broken)
    with app.app_context(), pytest.raises(sa.exc.TimeoutError):
        session_batch.principal_row(*made["alice"], session_expiry.alive(utcnow()))
    assert not session_batch._open, "the failed batch is closed: the next lookup opens one"


def test_a_stream_the_pool_cannot_serve_is_told_to_come_back(app, shop, monkeypatch):
    """No connection within the pool's timeout (a reconnect storm): 200 with ``retry:``,
    as a 503 would end an EventSource for good (the HTML spec's SSE section)."""
    admin = logged_in_client(app, shop.admin.username)
    app.extensions["session_cache"].clear()

    def exhausted(*args, **kwargs):
        raise sa.exc.TimeoutError("QueuePool limit reached")

    monkeypatch.setattr(session_batch, "principal_row", exhausted)
    response = admin.get(ADMIN_STREAM)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    body = response.get_data()
    retry = int(body.split(b"retry: ")[1].split(b"\n")[0])
    assert 2 * app.config["SSE_RETRY_MS"] <= retry <= 6 * app.config["SSE_RETRY_MS"]
    assert b"busy" in body

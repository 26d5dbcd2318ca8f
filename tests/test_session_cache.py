"""The per-worker cache of valid sessions (``app/services/session_cache.py``): a stream
request of a session this worker read recently costs no query, and the revoke messages that
end open streams drop it at once, so an ended session's cookie is refused as soon as its
message arrived (in-process here, on both databases; across workers and backends:
``tests/test_session_cache_servers.py``)."""

import threading

import sqlalchemy as sa

from app.extensions import db
from app.services import session_cache, sessions
from app.services.session_cache import Entry, SessionCache
from tests.helpers import assert_json_error, data, logged_in_client, message, wait_until
from tests.test_sessions import copy_of, revoked
from tests.test_stream import ADMIN_STREAM

T0 = 1000.0


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now


def cache(ttl=5.0, listening=True, **kwargs) -> SessionCache:
    kwargs.setdefault("clock", Clock())  # entries are read at T0 and stay within the TTL
    made = SessionCache(ttl, **kwargs)
    made.listening = lambda: listening
    return made


def entry(clock=None) -> Entry:
    return Entry("boss", "admin", None, None, clock() if clock else T0)


def cached(c: SessionCache, user_id: int, session_id: str) -> bool:
    return c.get(user_id, session_id) is not None


def test_a_revoke_drops_exactly_the_sessions_it_ends():
    clock = Clock()
    c = cache(clock=clock)
    for user_id, session_id in [(1, "a"), (1, "b"), (1, "c"), (2, "z")]:
        assert c.put(c.generation, user_id, session_id, entry(clock))
    c.apply([sessions.revoke_message(1, "logout", session_id="a")])
    assert [cached(c, 1, s) for s in "abc"] == [False, True, True]
    c.apply([sessions.revoke_message(1, "password", keep="b")])  # all of user 1's but b
    assert [cached(c, 1, s) for s in "abc"] == [False, True, False]
    c.apply([sessions.revoke_message(1, "role")])  # every session of user 1
    assert not cached(c, 1, "b")
    assert cached(c, 2, "z"), "another user's session stays"
    assert len(c) == 1


def test_a_session_read_before_its_revoke_arrived_is_not_put_back():
    """The query ran while the session still existed; its revoke arrived before the result
    was stored: storing it would keep an ended session for a whole TTL."""
    c = cache()
    generation = c.generation  # the loader reads this before its query
    c.apply([sessions.revoke_message(1, "logout", session_id="a")])
    assert not c.put(generation, 1, "a", entry())
    assert not cached(c, 1, "a")
    assert c.put(c.generation, 1, "a", entry()), "a read made after the message may be kept"


def test_nothing_is_cached_while_revoke_messages_cannot_arrive():
    c = cache(listening=False)
    assert not c.put(c.generation, 1, "a", entry())
    assert not cached(c, 1, "a")


def test_a_resync_forgets_every_session():
    """The backend lost its connection meanwhile: revokes may have been missed."""
    c = cache()
    c.put(c.generation, 1, "a", entry())
    c.put(c.generation, 2, "b", entry())
    generation = c.generation
    c.apply([{"type": "resync"}])
    assert not cached(c, 1, "a") and not cached(c, 2, "b")
    assert not c.put(generation, 1, "a", entry())


def test_other_messages_leave_the_cache_alone():
    c = cache()
    c.put(c.generation, 1, "a", entry())
    generation = c.generation
    c.apply([{"type": "orders", "version": 7}, {"type": "presence", "op": "hello"}])
    assert cached(c, 1, "a") and c.generation == generation


def test_an_entry_lasts_the_ttl_and_no_longer():
    clock = Clock()
    c = cache(ttl=5.0, clock=clock)
    c.put(c.generation, 1, "a", entry(clock))
    clock.now = T0 + 5.0
    assert cached(c, 1, "a")
    clock.now = T0 + 5.01
    assert not cached(c, 1, "a")


def test_the_cache_stays_bounded():
    c = cache(max_entries=3)
    for n in range(10):
        assert c.put(c.generation, n, "s", entry())
        assert len(c) <= 3
    assert cached(c, 9, "s")


# -- in the app: the stream endpoints' user loader ------------------------------------------


def statements_in_this_thread(app):
    """SQL statements this thread sends (the hub's own thread queries on its own)."""
    seen: list[str] = []
    me = threading.get_ident()

    def record(_conn, _cursor, statement, *_args):
        if threading.get_ident() == me:
            seen.append(statement)

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", record)
    return seen


def listening(app) -> bool:
    return app.extensions["realtime"].backend.is_listening()


def test_a_stream_request_of_a_known_session_costs_no_query(app, shop, open_stream):
    admin = logged_in_client(app, shop.admin.username)
    first = open_stream(admin, ADMIN_STREAM)  # starts the hub and its backend
    wait_until(lambda: listening(app), what="the backend listening")
    second = open_stream(admin, ADMIN_STREAM)  # read once more, now cached
    assert second.headers.get("X-Session-Cache") is None, "only with EXPOSE_WORKER_PID"
    seen = statements_in_this_thread(app)
    third = open_stream(admin, ADMIN_STREAM)
    assert third.response.status_code == 200
    assert not [s for s in seen if "user_sessions" in s], seen
    for stream in (first, second, third):
        stream.close()


def test_pages_and_the_api_still_load_the_user_from_the_database(app, shop, open_stream):
    """Only the stream views take a cached ``Principal``: a page or an API call gets the
    ``User`` (a balance, a role changed a moment ago), read by the request itself."""
    admin = logged_in_client(app, shop.admin.username)
    stream = open_stream(admin, ADMIN_STREAM)
    wait_until(lambda: listening(app), what="the backend listening")
    seen = statements_in_this_thread(app)
    assert admin.get("/admin/api/order-updates").status_code == 200
    assert [s for s in seen if "user_sessions" in s]
    stream.close()


def test_a_revoked_cookie_is_refused_once_its_message_arrived(make_app, open_stream):
    """A copy of the cookie holds a stream, so its session is in the cache (for a minute:
    the TTL cannot be what refuses it here, nor the re-validation); the owner logs out;
    once the revoke message has ended the copy's stream, the copy is refused."""
    from tests.factories import seed_shop

    app = make_app(SESSION_CACHE_SECONDS=60, SSE_REVALIDATE_SECONDS=60)
    shop = seed_shop(app)
    admin = logged_in_client(app, shop.admin.username)
    thief = copy_of(admin, app)
    held = open_stream(thief, ADMIN_STREAM)
    wait_until(lambda: listening(app), what="the backend listening")
    again = open_stream(thief, ADMIN_STREAM)
    entries = app.extensions["session_cache"]
    assert len(entries) == 1, "the copy's session is cached"
    admin.post("/auth/logout")
    for stream in (held, again):
        assert data(stream.wait_for(revoked, timeout=10)) == {"reason": "logout"}
    assert len(entries) == 0
    assert_json_error(thief.get(ADMIN_STREAM), 401)


def test_a_password_change_keeps_the_new_session_and_refuses_the_old(make_app, open_stream):
    from tests.factories import seed_shop

    app = make_app(SESSION_CACHE_SECONDS=60, SSE_REVALIDATE_SECONDS=60)
    shop = seed_shop(app)
    alice = logged_in_client(app, shop.alice.username)
    old_copy = copy_of(alice, app)
    body = {"items": [{"product_id": shop.products[0].id, "quantity": 1}]}
    order = alice.post("/api/orders", json={**body, "delivery_method": "pickup"}).get_json()[
        "order"
    ]
    path = f"/orders/{order['order_number']}/stream"
    held = open_stream(old_copy, path)
    wait_until(lambda: listening(app), what="the backend listening")
    open_stream(old_copy, path).close()  # now cached
    form = {"current": "password123", "password": "a-new-secret-9", "confirm": "a-new-secret-9"}
    assert alice.post("/account/password", data=form).status_code in (200, 302, 303)
    assert data(held.wait_for(revoked, timeout=10)) == {"reason": "password"}
    assert_json_error(old_copy.get(path), 401)
    mine = open_stream(alice, path)
    assert mine.response.status_code == 200, "the rotated session streams on"
    assert mine.wait_for(message("initial"), timeout=5)


def test_with_the_cache_off_every_stream_request_reads_its_session(make_app, open_stream):
    from tests.factories import seed_shop

    app = make_app(SESSION_CACHE_SECONDS=0)
    shop = seed_shop(app)
    admin = logged_in_client(app, shop.admin.username)
    first = open_stream(admin, ADMIN_STREAM)
    wait_until(lambda: listening(app), what="the backend listening")
    seen = statements_in_this_thread(app)
    second = open_stream(admin, ADMIN_STREAM)
    assert [s for s in seen if "user_sessions" in s]
    assert len(app.extensions["session_cache"]) == 0
    for stream in (first, second):
        stream.close()


def test_principal_is_what_the_stream_views_read():
    who = session_cache.Principal(7, "boss", "admin", "sid")
    assert who.is_authenticated and who.is_active and not who.is_anonymous
    assert who.is_admin and who.get_id() == "7:sid"
    assert not session_cache.Principal(8, "alice", "customer", "s2").is_admin


def test_streams_keep_their_session_alive_written_in_a_batch(make_app, open_stream):
    """A stream request marks its session seen as every request does, but the ``UPDATE``
    is the hub's, one per batch of sessions (``session_expiry.write_seen``), never a write
    and a commit per reconnect."""
    from datetime import timedelta

    from app.models import UserSession
    from app.models.timestamps import utcnow
    from tests.factories import seed_shop
    from tests.test_session_expiry import backdate

    app = make_app(SESSION_IDLE_TIMEOUT_SECONDS=3600, SESSION_TOUCH_SECONDS=60)
    shop = seed_shop(app)
    alice = logged_in_client(app, shop.alice.username)
    backdate(app, shop.alice.id, last_seen_at=timedelta(minutes=50))
    seen = statements_in_this_thread(app)
    stream = open_stream(alice, "/catalogue/stream")
    assert stream.response.status_code == 200
    assert not [s for s in seen if s.lstrip().upper().startswith("UPDATE")], seen

    def last_seen():
        with app.app_context():
            when = db.session.scalar(sa.select(UserSession.last_seen_at))
            db.session.remove()
        return when

    wait_until(lambda: utcnow() - last_seen() < timedelta(minutes=1), what="last seen written")
    stream.close()

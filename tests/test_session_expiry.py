"""Sessions that end properly: a revoke message of constant size however many sessions end
(PostgreSQL NOTIFY takes 8,000 bytes), idle and absolute expiry, a per-user cap, and
expired rows pruned by the app and by ``flask prune-sessions``."""

import secrets
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import UserSession
from app.models.timestamps import utcnow
from app.services import sessions
from tests.factories import seed_shop
from tests.helpers import assert_json_error, data, logged_in_client
from tests.test_sessions import API, copy_of, open_dashboard, revoked, sessions_of


def add_sessions(app, user_id: int, n: int, age: timedelta = timedelta(0)) -> None:
    """``n`` session rows of ``user_id``, last seen and created ``age`` ago (as if the user
    had logged in from ``n`` browsers)."""
    when = utcnow() - age
    rows = [
        {
            "id": secrets.token_urlsafe(32),
            "user_id": user_id,
            "created_at": when,
            "last_seen_at": when,
            "user_agent": f"Browser {i}",
            "ip": "198.51.100.9",
        }
        for i in range(n)
    ]
    with app.app_context():
        db.session.execute(sa.insert(UserSession), rows)
        db.session.commit()
        db.session.remove()


def backdate(app, user_id: int, **ages: timedelta) -> None:
    """Move the user's sessions' ``created_at`` / ``last_seen_at`` back by the given ages."""
    with app.app_context():
        values = {column: utcnow() - age for column, age in ages.items()}
        db.session.execute(
            sa.update(UserSession).where(UserSession.user_id == user_id).values(**values)
        )
        db.session.commit()
        db.session.remove()


def test_ending_a_thousand_sessions_is_one_small_message(make_app, open_stream):
    """On PostgreSQL without Redis the revoke travels by pg_notify (8,000 bytes at most):
    a list of 1,000 session ids failed with "payload string too long". The periodic
    re-validation is held off, so only the revoke message can end the stream (with its
    reason) instead of the re-validation finding the session gone ("ended")."""
    app = make_app(SSE_REVALIDATE_SECONDS=3600)
    shop, runner = seed_shop(app), app.test_cli_runner()
    admin = logged_in_client(app, shop.admin.username)
    stream = open_dashboard(open_stream, admin)
    add_sessions(app, shop.admin.id, 1000)
    result = runner.invoke(args=["deactivate-user", shop.admin.username])
    assert result.exit_code == 0, result.output
    assert "1001 session(s) ended" in result.output
    assert data(stream.wait_for(revoked, timeout=5)) == {"reason": "deactivated"}
    assert sessions_of(app, shop.admin.id) == 0
    assert_json_error(admin.get(API), 401)


def test_a_revoke_message_names_a_user_and_a_session_never_a_list(ctx):
    ended_one = sessions.revoke_message(7, "logout", session_id="abc")
    all_but = sessions.revoke_message(7, "password", keep="new")
    assert all_but == {
        "type": "revoke",
        "user_id": 7,
        "session_id": None,
        "keep": "new",
        "reason": "password",
    }
    assert sessions.ends(ended_one, 7, "abc") and not sessions.ends(ended_one, 7, "other")
    assert sessions.ends(all_but, 7, "old") and not sessions.ends(all_but, 7, "new")
    assert not sessions.ends(all_but, 8, "old")


def test_an_idle_session_expires(make_app):
    app = make_app(SESSION_IDLE_TIMEOUT_SECONDS=3600)
    shop = seed_shop(app)
    alice = logged_in_client(app, shop.alice.username)
    backdate(app, shop.alice.id, last_seen_at=timedelta(minutes=50))
    assert alice.get("/orders").status_code == 200, "50 minutes idle: still signed in"
    backdate(app, shop.alice.id, last_seen_at=timedelta(minutes=61))
    response = alice.get("/orders")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert_json_error(alice.post("/api/orders", json={}), 401)


def test_use_keeps_a_session_alive(make_app):
    app = make_app(SESSION_IDLE_TIMEOUT_SECONDS=3600, SESSION_TOUCH_SECONDS=60)
    shop = seed_shop(app)
    alice = logged_in_client(app, shop.alice.username)
    backdate(app, shop.alice.id, last_seen_at=timedelta(minutes=50))
    assert alice.get("/orders").status_code == 200  # seen now
    with app.app_context():
        seen = db.session.scalar(sa.select(UserSession.last_seen_at))
    assert utcnow() - seen < timedelta(minutes=1)
    backdate(app, shop.alice.id, last_seen_at=timedelta(minutes=50))
    assert alice.get("/orders").status_code == 200, "counted from the last request"


def test_a_session_ends_after_its_absolute_lifetime_however_busy(make_app):
    app = make_app(SESSION_ABSOLUTE_TIMEOUT_SECONDS=86400)
    shop = seed_shop(app)
    alice = logged_in_client(app, shop.alice.username)
    backdate(app, shop.alice.id, created_at=timedelta(hours=23))
    assert alice.get("/orders").status_code == 200
    backdate(app, shop.alice.id, created_at=timedelta(hours=25))
    assert alice.get("/orders").status_code == 302
    assert logged_in_client(app, shop.alice.username).get("/orders").status_code == 200


def test_the_stream_of_an_expired_session_ends(app, shop, open_stream):
    admin = logged_in_client(app, shop.admin.username)
    stream = open_dashboard(open_stream, admin)
    backdate(app, shop.admin.id, created_at=timedelta(days=365))
    assert data(stream.wait_for(revoked, timeout=5)) == {"reason": "ended"}


def test_past_the_cap_a_login_ends_the_oldest_session(make_app, open_stream):
    app = make_app(SESSION_MAX_PER_USER=3, SSE_REVALIDATE_SECONDS=3600)  # only the message ends it
    shop = seed_shop(app)
    first = logged_in_client(app, shop.admin.username)
    stream = open_dashboard(open_stream, first)
    others = [logged_in_client(app, shop.admin.username) for _ in range(3)]
    assert sessions_of(app, shop.admin.id) == 3
    assert data(stream.wait_for(revoked, timeout=5)) == {"reason": "limit"}
    assert_json_error(first.get(API), 401)
    assert all(client.get(API).status_code == 200 for client in others)
    for _ in range(17):  # 20 more logins: still 3 rows
        logged_in_client(app, shop.admin.username)
    assert sessions_of(app, shop.admin.id) == 3


def test_a_login_prunes_expired_sessions_of_every_user(make_app):
    app = make_app(SESSION_PRUNE_SECONDS=0)
    shop = seed_shop(app)
    add_sessions(app, shop.bob.id, 30, age=timedelta(days=400))
    add_sessions(app, shop.bob.id, 2)
    logged_in_client(app, shop.alice.username)
    assert sessions_of(app, shop.bob.id) == 2, "bob's 30 expired rows went at alice's login"


def test_prune_sessions_deletes_only_expired_rows(app, shop, runner):
    alice = logged_in_client(app, shop.alice.username)
    thief = copy_of(alice, app)
    add_sessions(app, shop.bob.id, 5, age=timedelta(days=8))  # idle longer than 7 days
    add_sessions(app, shop.bob.id, 1)
    result = runner.invoke(args=["prune-sessions"])
    assert result.exit_code == 0 and "Pruned 5 expired session(s)" in result.output
    assert sessions_of(app, shop.bob.id) == 1 and sessions_of(app, shop.alice.id) == 1
    assert thief.get("/orders").status_code == 200  # a live session is left alone
    assert runner.invoke(args=["prune-sessions"]).output.startswith("Pruned 0")

"""Sessions the server can end: logout, a password change,
"log out other sessions", demotion and deactivation end sessions for good (a copied cookie
is anonymous afterwards) and close their open streams with an ``event: revoked`` frame;
sessions ended straight in the database are found by the hub's periodic re-validation."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import User, UserSession
from tests.factories import PASSWORD
from tests.helpers import assert_json_error, data, logged_in_client, message
from tests.test_stream import ADMIN_STREAM, api_order

API = "/admin/api/order-updates"


@pytest.fixture
def app(make_app, request):
    """The hub's periodic re-validation held off (``SSE_REVALIDATE_SECONDS`` 3600): it may
    find an ended session before the revoke message arrives and close the stream with
    "ended" instead of the message's reason. Tests marked ``revalidating`` test that
    re-validation and keep the testing 0.2 s."""
    if request.node.get_closest_marker("revalidating"):
        return make_app()
    return make_app(SSE_REVALIDATE_SECONDS=3600)


def revoked(frame) -> bool:
    return frame["event"] == "revoked"


def open_dashboard(open_stream, client):
    stream = open_stream(client, ADMIN_STREAM)
    stream.wait_for(message("initial"), timeout=3)
    return stream


def copy_of(client, app):
    """A second client holding a copy of ``client``'s cookies (a stolen cookie)."""
    thief = app.test_client()
    for cookie in client._cookies.values():
        thief.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
    return thief


def sessions_of(app, user_id) -> int:
    with app.app_context():
        count = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(UserSession)
            .where(UserSession.user_id == user_id)
        )
        db.session.remove()
    return count


def test_logout_ends_the_session_and_a_copied_cookie(app, shop, open_stream):
    admin = logged_in_client(app, shop.admin.username)
    thief = copy_of(admin, app)
    assert thief.get(API).status_code == 200, "the copy works while the session lives"
    stream = open_dashboard(open_stream, admin)
    admin.post("/auth/logout")
    frame = stream.wait_for(revoked, timeout=3)
    assert data(frame) == {"reason": "logout"}
    stream.read_to_end(timeout=3)
    assert_json_error(thief.get(API), 401)
    assert_json_error(thief.get(ADMIN_STREAM), 401)
    assert sessions_of(app, shop.admin.id) == 0


def test_logout_ends_only_that_session(app, shop, open_stream):
    laptop = logged_in_client(app, shop.admin.username)
    phone = logged_in_client(app, shop.admin.username)
    on_phone = open_dashboard(open_stream, phone)
    laptop.post("/auth/logout")
    assert phone.get(API).status_code == 200
    on_laptop_copy = copy_of(laptop, app)
    assert_json_error(on_laptop_copy.get(API), 401)
    on_phone.wait_for(lambda f: f.get("comment") == "heartbeat", timeout=2)
    assert not any(revoked(f) for f in on_phone.seen)


def test_a_revoked_stream_gives_its_slot_back(make_app, open_stream):
    from tests.factories import seed_shop

    app = make_app(SSE_MAX_STREAMS_PER_USER=1)
    shop = seed_shop(app)
    first = logged_in_client(app, shop.admin.username)
    stream = open_dashboard(open_stream, first)
    second = logged_in_client(app, shop.admin.username)
    assert_json_error(second.get(ADMIN_STREAM), 429)
    first.post("/auth/logout")
    stream.read_to_end(timeout=3)
    assert app.extensions["realtime"].stream_count == 0
    open_dashboard(open_stream, second)


def test_password_change_ends_every_other_session(app, shop, open_stream):
    here = logged_in_client(app, shop.alice.username)
    there = logged_in_client(app, shop.alice.username)
    order = api_order(there, shop)
    watching = open_stream(there, f"/orders/{order['order_number']}/stream")
    watching.wait_for(message("initial"), timeout=3)
    response = here.post(
        "/account/password",
        data={"current": PASSWORD, "password": "a-new-secret-9", "confirm": "a-new-secret-9"},
    )
    assert response.status_code == 302
    assert data(watching.wait_for(revoked, timeout=3)) == {"reason": "password"}
    assert here.get("/orders").status_code == 200, "this session goes on"
    assert there.get("/orders").status_code == 302, "the other one is logged out"
    assert sessions_of(app, shop.alice.id) == 1
    logged_in_client(app, shop.alice.username, "a-new-secret-9")


def test_password_change_refuses_bad_input_and_changes_nothing(app, shop):
    client = logged_in_client(app, shop.alice.username)
    other = logged_in_client(app, shop.alice.username)
    with app.app_context():
        before = db.session.scalar(sa.select(User.password_hash).where(User.id == shop.alice.id))
    cases = [
        {"current": "wrong-password", "password": "a-new-secret-9", "confirm": "a-new-secret-9"},
        {"current": PASSWORD, "password": "short", "confirm": "short"},
        {"current": PASSWORD, "password": "a-new-secret-9", "confirm": "different-one-9"},
        {},
    ]
    for form in cases:
        response = client.post("/account/password", data=form)
        assert response.status_code == 422, form
    with app.app_context():
        after = db.session.scalar(sa.select(User.password_hash).where(User.id == shop.alice.id))
    assert after == before
    assert other.get("/orders").status_code == 200
    assert sessions_of(app, shop.alice.id) == 2


def test_the_account_page_lists_sessions_and_ends_the_others(app, shop, open_stream):
    here = logged_in_client(app, shop.admin.username)
    there = logged_in_client(app, shop.admin.username)
    stream = open_dashboard(open_stream, there)
    page = here.get("/account").get_data(as_text=True)
    assert page.count('class="session-end"') == 2 and "This device" in page
    assert here.post("/account/sessions/end-others").status_code == 302
    assert data(stream.wait_for(revoked, timeout=3)) == {"reason": "other-sessions"}
    assert_json_error(there.get(API), 401)
    assert here.get(API).status_code == 200


def test_demotion_ends_sessions_and_dashboards(app, shop, open_stream, runner):
    admin = logged_in_client(app, shop.admin.username)
    stream = open_dashboard(open_stream, admin)
    result = runner.invoke(args=["set-role", shop.admin.username, "customer"])
    assert result.exit_code == 0, result.output
    assert data(stream.wait_for(revoked, timeout=3)) == {"reason": "role"}
    assert_json_error(admin.get(API), 401)
    again = logged_in_client(app, shop.admin.username)
    assert_json_error(again.get(API), 403)


def test_deactivation_ends_sessions_and_refuses_logins(app, shop, open_stream, runner):
    alice = logged_in_client(app, shop.alice.username)
    result = runner.invoke(args=["deactivate-user", "ALICE"])
    assert result.exit_code == 0, result.output
    assert alice.get("/orders").status_code == 302
    response = app.test_client().post(
        "/auth/login", data={"username": "alice", "password": PASSWORD}
    )
    assert response.status_code == 200 and b"Wrong username or password" in response.data
    assert runner.invoke(args=["deactivate-user", "alice", "--reactivate"]).exit_code == 0
    logged_in_client(app, shop.alice.username)


def test_cli_refuses_unknown_users_and_roles(runner, shop):
    assert runner.invoke(args=["set-role", "nobody", "admin"]).exit_code != 0
    assert runner.invoke(args=["set-role", "alice", "superuser"]).exit_code != 0
    assert runner.invoke(args=["deactivate-user", "nobody"]).exit_code != 0


@pytest.mark.revalidating
def test_changes_made_straight_in_the_database_end_streams(app, shop, open_stream):
    """No revoke message here: the hub's re-validation (every SSE_REVALIDATE_SECONDS, 0.2 s
    in tests) finds the deleted session and the demoted admin."""
    gone = logged_in_client(app, shop.admin.username)
    ended = open_dashboard(open_stream, gone)
    with app.app_context():
        db.session.execute(sa.delete(UserSession))
        db.session.commit()
        db.session.remove()
    assert data(ended.wait_for(revoked, timeout=3)) == {"reason": "ended"}

    demoted = logged_in_client(app, shop.admin.username)
    stream = open_dashboard(open_stream, demoted)
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == shop.admin.id).values(role="customer"))
        db.session.commit()
        db.session.remove()
    assert data(stream.wait_for(revoked, timeout=3)) == {"reason": "role"}


@pytest.mark.revalidating
def test_customers_pages_end_when_their_session_goes_straight_from_the_database(
    app, shop, open_stream, placed
):
    """Order and storefront streams are checked by the one query that returns only ended
    sessions (``session_expiry.ended_among``): the deleted session's pages end, another
    customer's stay, and a deactivated user's end too."""
    alice = logged_in_client(app, shop.alice.username)
    bob = logged_in_client(app, shop.bob.username)
    order_page = open_stream(alice, f"/orders/{placed['number']}/stream")
    storefront = open_stream(alice, "/catalogue/stream")
    bystander = open_stream(bob, "/catalogue/stream")
    with app.app_context():
        db.session.execute(sa.delete(UserSession).where(UserSession.user_id == shop.alice.id))
        db.session.commit()
        db.session.remove()
    for stream in (order_page, storefront):
        assert data(stream.wait_for(revoked, timeout=5)) == {"reason": "ended"}
    bystander.wait_for(lambda f: f.get("comment") == "heartbeat", timeout=3)
    assert not any(revoked(f) for f in bystander.seen)
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == shop.bob.id).values(active=False))
        db.session.commit()
        db.session.remove()
    assert data(bystander.wait_for(revoked, timeout=5)) == {"reason": "ended"}

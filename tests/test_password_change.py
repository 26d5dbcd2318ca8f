"""A password change locks the thief out: the current session gets a new id (a copy of its
cookie dies even from the same address and browser), every other session ends, device
cookies made before stop counting, and wrong current passwords are limited like logins."""

import pytest

from app.login_guard import DEVICE_COOKIE
from tests.factories import PASSWORD, seed_shop
from tests.helpers import assert_json_error, logged_in_client
from tests.test_sessions import API, copy_of, sessions_of

NEW = "a-new-secret-9"


def change(client, current=PASSWORD, new=NEW):
    return client.post(
        "/account/password", data={"current": current, "password": new, "confirm": new}
    )


def order_body(shop):
    return {
        "items": [{"product_id": shop.products[0].id, "quantity": 1}],
        "delivery_method": "pickup",
    }


def test_a_copy_of_the_current_cookie_dies_with_a_password_change(app, shop):
    owner = logged_in_client(app, shop.alice.username)
    thief = copy_of(owner, app)  # same address, same User-Agent: the test client's
    assert thief.post("/api/orders", json=order_body(shop)).status_code == 201
    assert change(owner).status_code == 302
    assert_json_error(thief.post("/api/orders", json=order_body(shop)), 401)
    assert thief.get("/orders").status_code == 302
    assert owner.get("/orders").status_code == 200, "the owner goes on, under a new id"
    assert owner.post("/api/orders", json=order_body(shop)).status_code == 201
    assert sessions_of(app, shop.alice.id) == 1


def test_log_out_other_sessions_kills_a_copy_of_this_one_too(app, shop):
    owner = logged_in_client(app, shop.admin.username)
    thief = copy_of(owner, app)
    elsewhere = logged_in_client(app, shop.admin.username)
    assert owner.post("/account/sessions/end-others").status_code == 302
    assert_json_error(thief.get(API), 401)
    assert_json_error(elsewhere.get(API), 401)
    assert owner.get(API).status_code == 200
    assert sessions_of(app, shop.admin.id) == 1


def test_a_page_of_the_same_browser_comes_back_after_the_rotation(app, shop):
    """The dashboard of another tab ends with `revoked` and goes to the login page with
    ?next=: the browser's cookie names the new session, so it goes straight back."""
    owner = logged_in_client(app, shop.admin.username)
    change(owner)
    response = owner.get("/auth/login?next=/admin/manage_orders")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/manage_orders"


@pytest.fixture
def limited_app(make_app):
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_PASSWORD_SESSION="5 per minute",
        RATELIMIT_PASSWORD_USER="10 per hour",
        RATELIMIT_LOGIN_USERNAME="4 per minute",
        RATELIMIT_LOGIN_DEVICE="3 per minute",
    )
    app.shop = seed_shop(app)
    return app


def test_wrong_current_passwords_are_limited_per_session_and_per_user(limited_app):
    """Runs on both databases: without Redis, PostgreSQL holds the counters."""
    shop = limited_app.shop
    thief = logged_in_client(limited_app, shop.alice.username)
    statuses = [change(thief, current=f"guess-{i}").status_code for i in range(20)]
    assert statuses[:5] == [422] * 5
    assert set(statuses[5:]) == {303}, statuses
    # A second session of the same user shares the per-user budget (10 an hour).
    second = logged_in_client(limited_app, shop.alice.username)
    statuses = [change(second, current=f"guess-{i}").status_code for i in range(20)]
    assert statuses.count(422) == 5 and statuses[-1] == 303
    third = logged_in_client(limited_app, shop.alice.username)
    assert change(third).status_code == 303, "past the per-user limit, even the right one"
    # Typos in the new password cost no hash and are not counted.
    bob = logged_in_client(limited_app, shop.bob.username)
    mismatched = {"current": PASSWORD, "password": NEW, "confirm": "other-9999"}
    for _ in range(8):
        assert bob.post("/account/password", data=mismatched).status_code == 422
    assert change(bob).status_code == 302


def test_a_refused_change_answers_json_429_to_json_clients(limited_app):
    client = logged_in_client(limited_app, limited_app.shop.alice.username)
    for i in range(5):
        change(client, current=f"guess-{i}")
    response = client.post(
        "/account/password",
        data={"current": "x", "password": NEW, "confirm": NEW},
        headers={"Accept": "application/json"},
    )
    assert_json_error(response, 429)


def test_device_cookies_made_before_a_password_change_stop_counting(limited_app):
    shop = limited_app.shop
    stolen = limited_app.test_client()  # a browser that once logged in as alice
    stolen.post("/auth/login", data={"username": "alice", "password": PASSWORD})
    assert stolen.get_cookie(DEVICE_COOKIE, path="/auth") is not None
    stolen.post("/auth/logout")
    owner = logged_in_client(limited_app, shop.alice.username)
    assert change(owner).status_code == 302
    owner.post("/auth/logout")
    assert (
        owner.post("/auth/login", data={"username": "alice", "password": NEW}).status_code == 302
    )
    owner.post("/auth/logout")  # the owner's browser has a cookie made after the change
    # Strangers fill alice's per-username budget; a valid device cookie skips it.
    for i in range(1, 6):
        stranger = limited_app.test_client()
        stranger.environ_base["REMOTE_ADDR"] = f"203.0.113.{i}"
        stranger.post("/auth/login", data={"username": "alice", "password": "wrong-pass"})
    response = stolen.post("/auth/login", data={"username": "alice", "password": NEW})
    assert response.status_code == 303, "the old device cookie no longer exempts it"
    assert (
        owner.post("/auth/login", data={"username": "alice", "password": NEW}).status_code == 302
    )


def handles_of(app, user_id) -> dict[str, str]:
    """``{session id: handle}`` of the user's sessions."""
    from app.extensions import db
    from app.services import sessions

    with app.app_context():
        found = {s.id: sessions.handle(s) for s in sessions.of_user(user_id)}
        db.session.remove()
    return found


def test_the_account_page_logs_out_one_session_of_ones_own_only(app, shop):
    here = logged_in_client(app, shop.alice.username)
    phone = logged_in_client(app, shop.alice.username)
    bob = logged_in_client(app, shop.bob.username)
    page = here.get("/account").get_data(as_text=True)
    assert "Mozilla" not in page and "Unknown device" in page  # the test client names none
    [bobs] = handles_of(app, shop.bob.id).values()
    refused = here.post(f"/account/sessions/{bobs}/end")
    assert refused.status_code == 404 and "already ended" in refused.get_data(as_text=True)
    assert here.post("/account/sessions/not-a-handle/end").status_code == 404
    assert bob.get("/orders").status_code == 200, "someone else's session is left alone"
    phone_handle, here_handle = handles_of(app, shop.alice.id).values()  # newest first
    assert here.post(f"/account/sessions/{phone_handle}/end").headers["Location"] == "/account"
    assert phone.get("/orders").status_code == 302 and here.get("/orders").status_code == 200
    response = here.post(f"/account/sessions/{here_handle}/end")
    assert response.headers["Location"] == "/", "this one: a logout"
    assert here.get("/orders").status_code == 302
    assert sessions_of(app, shop.alice.id) == 0

"""Login and registration limits: password spraying from one
address is slowed, guessing one account from many addresses is slowed, and neither locks
the account's owner out of the browser they logged in with before; registrations are
limited per address; unknown usernames cost a hash like known ones."""

import pytest

from app.login_guard import DEVICE_COOKIE
from app.models import user as user_model
from tests.factories import seed_shop
from tests.security_helpers import flashes, is_logged_in, snapshot

# What these tests check does not depend on the database: they run on SQLite only.
pytestmark = pytest.mark.one_database

PASSWORD = "password123"


@pytest.fixture
def limited_app(make_app):
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_LOGIN="3 per minute",
        RATELIMIT_LOGIN_ADDRESS="5 per minute",
        RATELIMIT_LOGIN_USERNAME="4 per minute",
        RATELIMIT_LOGIN_DEVICE="3 per minute",
        RATELIMIT_REGISTER="2 per minute",
    )
    app.shop = seed_shop(app)
    return app


def client_at(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def attempt(client, username: str, password: str = "wrong-pass") -> int:
    return client.post(
        "/auth/login", data={"username": username, "password": password}
    ).status_code


def test_one_password_sprayed_over_many_accounts_is_slowed(limited_app):
    sprayer = client_at(limited_app, "203.0.113.5")
    # Each username is tried once: the per-(address, username) limit never triggers.
    assert [attempt(sprayer, f"user-{i}") for i in range(5)] == [200] * 5
    assert attempt(sprayer, "user-99") == 303
    assert attempt(sprayer, "alice", PASSWORD) == 303  # even a right guess is refused now
    assert not is_logged_in(sprayer)
    # Other addresses are not held up.
    assert attempt(client_at(limited_app, "198.51.100.1"), "alice", PASSWORD) == 302


def test_guessing_one_account_from_many_addresses_is_slowed(limited_app):
    statuses = [attempt(client_at(limited_app, f"203.0.113.{i}"), "alice") for i in range(1, 6)]
    assert statuses == [200, 200, 200, 200, 303]
    newcomer = client_at(limited_app, "198.51.100.77")
    assert attempt(newcomer, "ALICE", PASSWORD) == 303  # any spelling of the name
    [(category, message)] = flashes(newcomer)
    assert category == "error" and "too many login attempts" in message.lower()
    assert attempt(newcomer, "bob", PASSWORD) == 302  # other accounts are unaffected


def test_the_owner_still_logs_in_from_their_browser_while_strangers_guess(limited_app):
    owner = client_at(limited_app, "198.51.100.20")
    assert attempt(owner, "alice", PASSWORD) == 302
    assert owner.get_cookie(DEVICE_COOKIE, path="/auth") is not None
    owner.post("/auth/logout")
    for i in range(1, 10):  # well past the per-username limit
        attempt(client_at(limited_app, f"203.0.113.{i}"), "alice")
    assert attempt(client_at(limited_app, "198.51.100.21"), "alice", PASSWORD) == 303
    # The owner's browser has its own budget, which nobody else can use up.
    assert attempt(owner, "alice", PASSWORD) == 302
    assert is_logged_in(owner)


def test_a_trusted_browser_is_still_limited_on_its_own_budget(limited_app):
    owner = client_at(limited_app, "198.51.100.20")
    assert attempt(owner, "alice", PASSWORD) == 302
    owner.post("/auth/logout")
    assert [attempt(owner, "alice") for _ in range(4)] == [200, 200, 200, 303]


@pytest.mark.parametrize("tamper", ["other-user", "bad-signature"])
def test_a_device_cookie_only_exempts_its_own_user(limited_app, tamper):
    browser = client_at(limited_app, "198.51.100.30")
    assert attempt(browser, "bob", PASSWORD) == 302
    browser.post("/auth/logout")
    if tamper == "bad-signature":
        value = browser.get_cookie(DEVICE_COOKIE, path="/auth").value
        # Change a character inside the signature (the last one may only carry padding).
        swapped = "A" if value[-8] != "A" else "B"
        browser.set_cookie(DEVICE_COOKIE, value[:-8] + swapped + value[-7:], path="/auth")
    for i in range(1, 6):
        attempt(client_at(limited_app, f"203.0.113.{i}"), "alice")
    target = "alice" if tamper == "other-user" else "bob"
    if target == "bob":
        for i in range(1, 6):
            attempt(client_at(limited_app, f"203.0.114.{i}"), "bob")
    assert attempt(browser, target, PASSWORD) == 303


def test_registrations_are_limited_per_address(limited_app):
    def register(client, name):
        form = {"username": name, "email": f"{name}@example.com", "password": "longpassword1"}
        return client.post("/auth/register", data=form | {"confirm": form["password"]})

    client = client_at(limited_app, "203.0.113.8")
    assert register(client, "dora").status_code == 302
    client.post("/auth/logout")
    assert register(client, "erin").status_code == 302
    client.post("/auth/logout")
    before = snapshot(limited_app)
    refused = register(client, "fred")
    assert refused.status_code == 303 and refused.headers["Location"] == "/auth/register"
    assert snapshot(limited_app) == before  # nothing written
    json_client = client_at(limited_app, "203.0.113.8")
    answer = json_client.post("/auth/register", headers={"Accept": "application/json"})
    assert answer.status_code == 429 and answer.get_json()["success"] is False
    assert register(client_at(limited_app, "198.51.100.8"), "fred").status_code == 302


def test_an_unknown_username_costs_one_hash_like_a_known_one(app, client, shop, monkeypatch):
    verified = []
    real = user_model.check_password_hash

    def spy(stored, password):
        verified.append(stored.split("$", 1)[0])  # the method and its cost parameters
        return real(stored, password)

    monkeypatch.setattr(user_model, "check_password_hash", spy)
    assert attempt(client, "alice") == 200
    assert attempt(client, "nobody-at-all") == 200
    assert len(verified) == 2 and verified[0] == verified[1], verified

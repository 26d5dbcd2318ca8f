"""The client address, in-process: ``X-Forwarded-*`` headers
are believed only from a peer in ``FORWARDED_ALLOW_IPS`` (default loopback: nginx on the
same host), and then only the one hop nginx adds. Session
protection and every limit key on that address. The same cases through the shipped nginx
configuration are in tests/test_proxy_nginx.py."""

import pytest

from tests.factories import seed_shop
from tests.security_helpers import is_logged_in

# What these tests check does not depend on the database: they run on SQLite only.
pytestmark = pytest.mark.one_database


def log_in(app, address: str, username: str = "alice", **headers):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    client.environ_base.update(
        {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    )
    response = client.post("/auth/login", data={"username": username, "password": "password123"})
    assert response.status_code == 302
    return client


def replay(app, client, address: str, **headers):
    """A second client that presents ``client``'s session cookie from ``address``."""
    thief = app.test_client()
    thief.environ_base["REMOTE_ADDR"] = address
    thief.environ_base.update(
        {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    )
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_a_stolen_cookie_with_a_forged_forwarded_for_is_refused(app, shop):
    victim = log_in(app, "198.51.100.7")
    assert is_logged_in(victim)
    # Flask-Login's own identifier believed this header: the replay passed as the victim.
    thief = replay(app, victim, "203.0.113.66", x_forwarded_for="198.51.100.7")
    assert not is_logged_in(thief)
    # The control: the same cookie from the victim's own address still works.
    assert is_logged_in(replay(app, victim, "198.51.100.7"))


@pytest.fixture
def proxied_app(make_app):
    app = make_app()  # the proxy connects from 127.0.0.1, trusted by default
    app.shop = seed_shop(app)
    return app


def test_behind_the_proxy_the_session_is_bound_to_the_address_nginx_saw(proxied_app):
    # nginx connects from 127.0.0.1 and sets X-Forwarded-For to the client's address.
    victim = log_in(proxied_app, "127.0.0.1", x_forwarded_for="198.51.100.7")
    assert is_logged_in(replay(proxied_app, victim, "127.0.0.1", x_forwarded_for="198.51.100.7"))
    thief = replay(proxied_app, victim, "127.0.0.1", x_forwarded_for="203.0.113.66")
    assert not is_logged_in(thief)


def test_forwarded_headers_from_an_untrusted_peer_change_nothing(app, shop):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    headers = {"X-Forwarded-For": "127.0.0.1"}  # /metrics is open to 127.0.0.1
    assert client.get("/metrics", headers=headers).status_code == 403


def test_proxy_fix_ignores_a_client_sent_forwarded_host(proxied_app):
    client = proxied_app.test_client()
    response = client.get(
        "/orders", headers={"Host": "shop.example", "X-Forwarded-Host": "evil.example"}
    )
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


def test_login_limits_ignore_a_forged_forwarded_for(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute")
    seed_shop(app)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    statuses = [
        client.post(
            "/auth/login",
            data={"username": "alice", "password": "wrong-pass"},
            headers={"X-Forwarded-For": f"198.51.100.{i}"},  # a new "address" every time
        ).status_code
        for i in range(4)
    ]
    assert statuses == [200, 200, 200, 303]


def test_a_peer_in_forwarded_allow_ips_is_believed_and_no_other(make_app):
    app = make_app(FORWARDED_ALLOW_IPS=("10.0.0.0/8",))
    headers = {"X-Forwarded-For": "127.0.0.1"}
    proxy = app.test_client()
    proxy.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert proxy.get("/metrics", headers=headers).status_code == 200
    # Loopback is no longer trusted once the setting names the proxy's network.
    local = app.test_client()
    local.environ_base["REMOTE_ADDR"] = "127.0.0.1"
    assert local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.4"}).status_code == 200
    stranger = app.test_client()
    stranger.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert stranger.get("/metrics", headers=headers).status_code == 403

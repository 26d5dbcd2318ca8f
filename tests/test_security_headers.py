"""Headers: HSTS in production (``HSTS_SECONDS``, 0 turns it off) and
``Cache-Control: no-store`` on pages, JSON and streams, so neither a shared cache nor the
browser's back button after logout shows orders, names or a session's CSRF token."""

import secrets

import pytest

from app import create_app
from tests.helpers import logged_in_client

# What these tests check does not depend on the database: they run on SQLite only.
pytestmark = pytest.mark.one_database


@pytest.mark.parametrize(
    "who, path",
    [
        ("admin", "/admin/manage_orders"),
        ("admin", "/admin/api/order-updates"),
        ("customer", "/orders"),
        ("customer", "/cart"),
        ("anonymous", "/"),  # carries the session's CSRF token too
        ("anonymous", "/auth/login"),
        ("anonymous", "/admin/api/order-updates"),  # 401 JSON
    ],
)
def test_dynamic_answers_are_never_stored(app, shop, who, path):
    names = {"admin": shop.admin.username, "customer": shop.alice.username}
    client = logged_in_client(app, names[who]) if who in names else app.test_client()
    assert client.get(path).headers["Cache-Control"] == "no-store"


def test_streams_are_never_stored(app, admin_client, open_stream):
    stream = open_stream(admin_client, "/admin/orders/stream")
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    assert stream.headers["Cache-Control"] == "no-store"


def test_static_files_keep_their_caching(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    response.close()


def test_hsts_is_off_outside_production(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_production_sends_hsts(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", secrets.token_hex(32))
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    app = create_app("production")
    try:
        for path in ("/healthz", "/no-such-page"):
            response = app.test_client().get(path, base_url="https://shop.example")
            header = response.headers["Strict-Transport-Security"]
            assert header == "max-age=31536000"  # a year, the default
    finally:
        app.extensions["realtime"].stop()


def test_hsts_seconds_zero_turns_it_off(make_app):
    app = make_app(HSTS_SECONDS=0)
    assert "Strict-Transport-Security" not in app.test_client().get("/").headers

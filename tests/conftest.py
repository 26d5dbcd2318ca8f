"""Fixtures in the style of flaskr's conftest: ``app``, ``client``, ``runner``, logged-in
clients and a small shop. Every app gets its own SQLite file under ``tmp_path``."""

import os

import pytest
from werkzeug.security import generate_password_hash

from app import create_app
from app.extensions import db
from app.models import user as user_model
from app.services import counts
from tests.factories import seed_shop
from tests.helpers import SSEStream, logged_in_client
from tests.services_required import create_postgres_database, drop_postgres_database

# Fixtures for tests against real gunicorn servers (shared_db, servers, private_redis) and
# the shipped nginx configuration in front of them (nginx).
pytest_plugins = ["tests.server_fixtures", "tests.nginx_fixtures"]


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch):
    """scrypt costs ~0.1 s per hash; tests only need a correct hash, not a slow one."""
    monkeypatch.setattr(
        user_model,
        "generate_password_hash",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"),
    )


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(request):
    """Every test runs on SQLite and on the real PostgreSQL server (a database of its own,
    made for this run and dropped after it). Yields ``None`` for SQLite, else the URL."""
    if request.param == "sqlite":
        yield None
        return
    name = f"orderpulse_test_{os.getpid()}"
    yield create_postgres_database(name)
    drop_postgres_database(name)


@pytest.fixture
def make_app(tmp_path, database):
    """``make_app(db_file="test.db", **config)``: a testing app with the schema and counter
    rows in place: on ``tmp_path/db_file`` for SQLite, or on this run's PostgreSQL database.
    Two apps made in one test share their database, like two processes."""
    apps = []

    def factory(db_file: str = "test.db", **overrides):
        uri = database or f"sqlite:///{tmp_path / db_file}"
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=uri, **overrides)
        with app.app_context():
            db.create_all()
            counts.ensure_rows()
            db.session.commit()
        apps.append(app)
        return app

    yield factory
    for app in reversed(apps):
        app.extensions["realtime"].stop()
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    """An app context for calling services directly."""
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def shop(app):
    return seed_shop(app)


@pytest.fixture
def admin_client(app, shop):
    return logged_in_client(app, shop.admin.username)


@pytest.fixture
def customer_client(app, shop):
    """Alice, logged in on her own test client."""
    return logged_in_client(app, shop.alice.username)


@pytest.fixture
def other_client(app, shop):
    """Bob, another customer, on a third client."""
    return logged_in_client(app, shop.bob.username)


@pytest.fixture
def open_stream(make_app):
    """``open_stream(client, url)`` → ``SSEStream``; every stream is closed at teardown,
    before the apps' hubs stop."""
    streams = []

    def opener(client, url: str) -> SSEStream:
        stream = SSEStream(client.get(url, buffered=False))
        streams.append(stream)
        return stream

    yield opener
    for stream in streams:
        stream.close()


@pytest.fixture
def csrf_app(make_app):
    """An app with CSRF checks on, as in production (TestConfig turns them off)."""
    return make_app(WTF_CSRF_ENABLED=True)


@pytest.fixture
def csrf_shop(csrf_app):
    return seed_shop(csrf_app)

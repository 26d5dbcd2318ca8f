"""Secrets: development signs sessions with a random key made once
and kept in ``instance/`` (mode 0600, one key however many workers start at once), never a
constant; production refuses a missing, short or placeholder key. A session cookie forged
with any key written down in this repository is anonymous."""

import hashlib
import multiprocessing
import os
import re
import secrets
import stat
from pathlib import Path

import pytest
from flask import Flask

from app import create_app
from app.extensions import db
from app.models import User
from app.secret_key import PLACEHOLDERS, SecretKeyError, instance_key
from app.services import counts, sessions
from tests.factories import seed_shop
from tests.servers import ROOT

# What these tests check does not depend on the database: they run on SQLite only.
pytestmark = pytest.mark.one_database

USER_AGENT = "forger/1.0"
# `SECRET_KEY = "..."`, `SECRET_KEY="..."`, `"SECRET_KEY": "..."`, `SECRET_KEY=...` (env files).
KEY_PATTERN = re.compile(r"""SECRET_KEY["']?[ \t]*[:=][ \t]*["']?([^"'\s,)]+)""")


def repository_keys() -> set[str]:
    """Every literal key assigned to SECRET_KEY anywhere in the repository, plus the known
    placeholders."""
    found = set(PLACEHOLDERS)
    for folder, subfolders, files in os.walk(ROOT):
        # Hidden folders (.venv, .git), caches and run artefacts are not the repository.
        subfolders[:] = [d for d in subfolders if d[0] not in "._" and d != "artifacts"]
        for name in files:
            path = Path(folder) / name
            if path.suffix in {".py", ".sh", ".md", ".example", ".conf", ".toml", ".env"}:
                found |= literal_keys(path)
    return found


def literal_keys(path: Path) -> set[str]:
    found = set()
    for value in KEY_PATTERN.findall(path.read_text(errors="replace")):
        if not value.startswith(("$", "{", "...", "<")) and value not in {"None", "key"}:
            found.add(value)
    return found


def forge_session(key: str, user_id: int, session_id: str | None = None) -> str:
    """A Flask session cookie signed with ``key`` saying "user ``user_id`` is logged in"
    (in server-side session ``session_id`` when given), bound (Flask-Login's strong
    protection) to 127.0.0.1 and ``USER_AGENT``."""
    forger = Flask("forger")
    forger.secret_key = key
    identifier = hashlib.sha512(f"127.0.0.1|{USER_AGENT}".encode()).hexdigest()
    user = f"{user_id}:{session_id}" if session_id else str(user_id)
    payload = {"_user_id": user, "_fresh": True, "_id": identifier}
    return forger.session_interface.get_signing_serializer(forger).dumps(payload)


@pytest.fixture
def dev_app(tmp_path, monkeypatch, database):
    """A development-config app (no SECRET_KEY in the environment) whose generated key
    lives in ``tmp_path/instance``, with the small shop."""
    monkeypatch.delenv("SECRET_KEY", raising=False)
    uri = database or f"sqlite:///{tmp_path / 'dev.db'}"
    app = create_app("development", SQLALCHEMY_DATABASE_URI=uri, SECRET_KEY_FOLDER=tmp_path)
    with app.app_context():
        db.create_all()
        counts.ensure_rows()
        db.session.commit()
    app.shop = seed_shop(app)
    yield app
    app.extensions["realtime"].stop()
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def admin_api_as(app, cookie: str):
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client.get("/admin/api/order-updates", headers={"User-Agent": USER_AGENT})


def test_a_cookie_forged_with_any_key_from_the_repository_is_anonymous(dev_app):
    keys = repository_keys()
    assert {"change-me-to-64-random-bytes", "dev-only-not-secret", "test-secret"} <= keys
    admin_id = dev_app.shop.admin.id
    # The forger even knows a live session id of the admin's.
    with dev_app.app_context():
        session_id = sessions.start(db.session.get(User, admin_id)).id
        db.session.commit()
    for key in sorted(keys):
        response = admin_api_as(dev_app, forge_session(key, admin_id, session_id))
        assert response.status_code == 401, f"a cookie signed with {key!r} was accepted"
    # The same forgery with the app's real key works: the refusals above are the key's doing.
    forged = forge_session(dev_app.secret_key, admin_id, session_id)
    assert admin_api_as(dev_app, forged).status_code == 200
    # Even the real key cannot mint a session the server did not start.
    assert admin_api_as(dev_app, forge_session(dev_app.secret_key, admin_id)).status_code == 401


def test_development_makes_a_random_key_once_and_keeps_it_private(tmp_path, dev_app):
    path = tmp_path / "secret_key"
    assert path.read_text().strip() == dev_app.secret_key
    assert len(dev_app.secret_key) >= 64 and dev_app.secret_key not in repository_keys()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # The next start (a restart, another worker) signs with the same key: sessions survive.
    again = create_app(
        "development", SQLALCHEMY_DATABASE_URI="sqlite://", SECRET_KEY_FOLDER=tmp_path
    )
    assert again.secret_key == dev_app.secret_key
    again.extensions["realtime"].stop()
    # Another checkout of the project gets a key of its own.
    other = create_app(
        "development", SQLALCHEMY_DATABASE_URI="sqlite://", SECRET_KEY_FOLDER=tmp_path / "b"
    )
    assert other.secret_key != dev_app.secret_key
    other.extensions["realtime"].stop()


def _make_key(folder, barrier, results):
    barrier.wait(timeout=30)
    results.put(instance_key(folder))


def test_workers_starting_together_agree_on_one_key(tmp_path):
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(8), ctx.Queue()
    workers = [ctx.Process(target=_make_key, args=(tmp_path, barrier, results)) for _ in range(8)]
    for worker in workers:
        worker.start()
    keys = {results.get(timeout=30) for _ in workers}
    for worker in workers:
        worker.join(timeout=30)
    assert len(keys) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporary file left


@pytest.mark.parametrize(
    "key, reason",
    [
        (None, "not set"),
        ("", "not set"),
        ("change-me-to-64-random-bytes", "placeholder"),
        ("dev-only-not-secret", "placeholder"),
        ("short-but-random-7f3a", "at least 32"),
    ],
)
def test_production_refuses_a_weak_key(monkeypatch, key, reason):
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    if key is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(SecretKeyError, match=reason) as refused:
        create_app("production")
    assert "SECRET_KEY" in str(refused.value) and "secrets.token_hex" in str(refused.value)


def test_production_starts_with_a_strong_key(monkeypatch):
    key = secrets.token_hex(32)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.setenv("SECRET_KEY", key)
    app = create_app("production")
    assert app.secret_key == key
    app.extensions["realtime"].stop()


def test_development_refuses_a_placeholder_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "change-me-to-64-random-bytes")
    with pytest.raises(SecretKeyError, match="placeholder"):
        create_app("development", SQLALCHEMY_DATABASE_URI="sqlite://", SECRET_KEY_FOLDER=tmp_path)

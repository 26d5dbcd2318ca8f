"""Unbound extension instances; ``create_app`` binds them (Flask's app-factory pattern)."""

import contextlib
import functools
import logging

import sqlalchemy as sa
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase

# Named constraints so Alembic's batch mode on SQLite can alter them later.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


# expire_on_commit=False: a view that commits and then serialises what it wrote would
# otherwise reload every object it touched, one query each (sessions are per request).
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


def listen_once(target, listeners: dict) -> None:
    """Register SQLAlchemy event ``listeners`` (``{event name: function}``) on ``target``
    unless already there: Session-class events are process-wide, and every ``create_app``
    of the process (tests make many) calls its modules' ``init_app``."""
    for name, function in listeners.items():
        if not sa.event.contains(target, name, function):
            sa.event.listen(target, name, function)


def rollback_quietly() -> None:
    """Roll the request's session back; if the connection is dead (killed, server gone)
    even the rollback fails, so drop it (``release_session``) instead of raising."""
    try:
        db.session.rollback()
    except Exception:
        release_session()


def release_session() -> None:
    """``db.session.remove()`` that survives a dead connection.

    Closing a session rolls back its open transaction; when the database has just killed
    that connection (``pg_terminate_backend``, a restart, a failover) the ROLLBACK itself
    fails. Raised from the request teardown, that turned a finished response into a bare
    500 (and killed the hub's loop). Here the connection is invalidated instead, and the
    pool replaces it on the next checkout (``pool_pre_ping``).
    """
    if not db.session.registry.has():  # nothing was opened in this context: nothing to do
        return
    session = db.session()
    try:
        session.close()
    except Exception as exc:
        logging.getLogger(__name__).warning("discarding a dead database connection: %s", exc)
        with contextlib.suppress(Exception):  # nothing more to release: the pool forgets it
            session.invalidate()
    db.session.remove()


login_manager = LoginManager()
login_manager.login_view = "auth.login"
# "strong": a session whose client address or User-Agent changes is dropped (the identifier is
# app.security.session_identifier).
login_manager.session_protection = "strong"
csrf = CSRFProtect()
# Settings come from config.RATELIMIT_* (storage: Redis when REDIS_URL is set, else memory).
limiter = Limiter(key_func=get_remote_address)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer built once per key.

    Flask builds a new ``URLSafeTimedSerializer`` for every request, itsdangerous then
    JSON-encodes a probe to learn what kind of serializer it got, and each check of a
    cookie builds a new signer and derives its HMAC key again: together a sixth of a
    stream reconnect's cost, in a reconnect storm of thousands a second. Here the
    serializer, its signers and their derived keys are made once per key set; the keys
    are read each time, so a changed ``SECRET_KEY`` or fallback list takes effect at once.
    """

    _cache: tuple | None = None

    def get_signing_serializer(self, app):
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        cached = self._cache
        if cached is not None and cached[0] == keys:
            return cached[1]
        serializer = super().get_signing_serializer(app)
        if serializer is not None:
            make_signer = serializer.make_signer

            def signer_with_its_keys(salt=None):
                signer = make_signer(salt)
                signer.derive_key = functools.lru_cache(maxsize=8)(signer.derive_key)
                return signer

            serializer.make_signer = functools.lru_cache(maxsize=8)(signer_with_its_keys)
        self._cache = (keys, serializer)
        return serializer

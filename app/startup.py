"""What a worker settles and says when it starts (docs/operations.md, "Logs"): the database
URL's driver, the pool's size, its metrics, one startup line naming the choices made, and a
check of the database and Redis whose failure is logged at once, not at the first request.
"""

import logging
import os
import sys
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import make_url

from app.metrics import POOL_CHECKED_OUT, POOL_OVERFLOW, POOL_SIZE
from app.outages import DATABASE, REDIS

log = logging.getLogger("orderpulse.startup")
# SQLAlchemy's default driver for "postgresql://" is psycopg2, which is not installed:
# this app ships psycopg 3 (requirements.txt).
PSYCOPG = "postgresql+psycopg"


def database_url(raw: str) -> str:
    """``raw`` with the psycopg 3 driver named: ``postgresql://`` and ``postgres://`` (what
    PostgreSQL's own tools and most hosts print) become ``postgresql+psycopg://``. Raises
    ``RuntimeError`` naming what to write for another PostgreSQL driver, which is not
    installed."""
    url = make_url(raw)
    if url.drivername in ("postgresql", "postgres"):
        return url.set(drivername=PSYCOPG).render_as_string(hide_password=False)
    if url.get_backend_name() == "postgresql" and url.drivername != PSYCOPG:
        raise RuntimeError(
            f"DATABASE_URL names the driver {url.drivername!r}, which is not installed: "
            f"write {PSYCOPG}://user:password@host:5432/dbname"
        )
    return raw


def configure_database(app: Flask) -> None:
    """Before ``db.init_app``: the URL's driver and, on PostgreSQL, the pool's size
    (``DATABASE_POOL_SIZE``, ``DATABASE_MAX_OVERFLOW``, ``DATABASE_POOL_TIMEOUT_SECONDS``) and
    a connect timeout, so that an unreachable server fails a request in seconds."""
    config = app.config
    config["SQLALCHEMY_DATABASE_URI"] = database_url(config["SQLALCHEMY_DATABASE_URI"])
    if make_url(config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() != "postgresql":
        return
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.setdefault("pool_size", config["DATABASE_POOL_SIZE"])
    options.setdefault("max_overflow", config["DATABASE_MAX_OVERFLOW"])
    options.setdefault("pool_timeout", config["DATABASE_POOL_TIMEOUT_SECONDS"])
    options.setdefault("connect_args", {}).setdefault("connect_timeout", 5)
    config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def watch_pool(engine) -> None:
    """Pool gauges (in use, overflow, size) kept current on every checkout and checkin, and a
    new connection marks the database reachable again (one recovery line after an outage)."""
    pool = engine.pool
    if not hasattr(pool, "checkedout"):
        return
    size = pool.size() + max(getattr(pool, "_max_overflow", 0), 0)
    POOL_SIZE.set(size)

    def update(*_args) -> None:
        POOL_CHECKED_OUT.set(pool.checkedout())
        POOL_OVERFLOW.set(pool.overflow())

    sa.event.listen(engine, "checkout", update)
    sa.event.listen(engine, "checkin", update)
    sa.event.listen(engine, "connect", lambda *_args: DATABASE.ok())


def describe(app: Flask, workers: int | None = None) -> str:
    """The startup line: backend, the proxies trusted (``FORWARDED_ALLOW_IPS``), database
    host, workers, log format, and the release and virtualenv running."""
    from app.realtime import get_hub

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    where = f"{url.host or 'localhost'}:{url.port or 5432}/{url.database}"
    if url.get_backend_name() == "sqlite":
        where = f"sqlite {url.database}"
    with app.app_context():
        backend = get_hub().backend.name
    parts = {
        "backend": backend,
        "forwarded_allow_ips": ",".join(app.config["FORWARDED_ALLOW_IPS"]) or "none",
        "database": where,
        "redis": _redis_host(app.config.get("REDIS_URL")),
        "workers": workers if workers is not None else "?",
        "log_format": app.config.get("LOG_FORMAT", "text"),
        # Which release and virtualenv this process runs (symlinks resolved): after a
        # release switch, the new workers must name the new ones.
        "code": os.path.realpath(app.root_path + "/.."),
        "venv": os.path.realpath(sys.prefix),
    }
    return "Order Pulse starting: " + " ".join(f"{k}={v}" for k, v in parts.items())


def _redis_host(url: str | None) -> str:
    if not url:
        return "none"
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}"


def check(app: Flask) -> bool:
    """``SELECT 1`` on the database and ``PING`` to Redis (when configured); each failure is
    logged as an outage (one error line). True when both answer."""
    from app.extensions import db, release_session
    from app.realtime import get_hub

    healthy = True
    with app.app_context():
        try:
            db.session.execute(sa.text("SELECT 1"))
            DATABASE.ok()
        except Exception as exc:  # any driver error: say so now, not at the first request
            DATABASE.failed(exc, "startup check")
            healthy = False
        finally:
            release_session()
        if app.config.get("REDIS_URL"):
            try:
                get_hub().backend.ping()
                REDIS.ok()
            except Exception as exc:  # Redis down: the app still serves (degraded)
                REDIS.failed(exc, "startup check")
                healthy = False
    return healthy

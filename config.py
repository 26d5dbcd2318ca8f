"""Configuration classes, read from the environment (DESIGN.md §2).

Every interval is configuration so tests can run the real-time engine in milliseconds.
Units are in the names: ``*_SECONDS`` are seconds, ``*_MS`` milliseconds.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class Config:
    """Defaults shared by every environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'orderpulse.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL") or None
    REDIS_CHANNEL = os.environ.get("REDIS_CHANNEL", "orderpulse:orders")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 64 * 1024  # bytes: no legitimate request here is larger
    WTF_CSRF_TIME_LIMIT = None  # an admin tab stays open all day; the token lives with the session

    # Real-time engine (DESIGN.md §1). Seconds unless the name says otherwise.
    SSE_HEARTBEAT_SECONDS = _float("SSE_HEARTBEAT_SECONDS", 15)
    SSE_LIFETIME_SECONDS = _float("SSE_LIFETIME_SECONDS", 600)
    SSE_LIFETIME_JITTER_SECONDS = _float("SSE_LIFETIME_JITTER_SECONDS", 60)
    SSE_RETRY_MS = _int("SSE_RETRY_MS", 2000)
    # One browser shares one stream between its tabs; this only stops runaway clients.
    SSE_MAX_STREAMS_PER_USER = _int("SSE_MAX_STREAMS_PER_USER", 10)
    SSE_EVENT_QUEUE_SIZE = _int("SSE_EVENT_QUEUE_SIZE", 64)
    # A client that leaves a frame unsent this long is dropped (it reconnects when it can).
    SSE_WRITE_TIMEOUT_SECONDS = _float("SSE_WRITE_TIMEOUT_SECONDS", 30)
    # Kernel send buffer per stream socket (bytes; Linux doubles it; 0 keeps the kernel's
    # autotuning). A client that stops reading fills it before the write timeout starts;
    # autotuned loopback/LAN buffers reach 1-4 MB each, so 1,000 stalled clients could pin
    # gigabytes of kernel memory. Frames are a few KB, so 64 KB costs healthy streams nothing.
    SSE_SEND_BUFFER_BYTES = _int("SSE_SEND_BUFFER_BYTES", 65536)
    # Hub writes frames straight to gunicorn gevent sockets (see realtime/subscription.py).
    SSE_DIRECT_WRITE = os.environ.get("SSE_DIRECT_WRITE", "1") == "1"
    HUB_COALESCE_SECONDS = _float("HUB_COALESCE_SECONDS", 0.25)
    HUB_VERSION_POLL_SECONDS = _float("HUB_VERSION_POLL_SECONDS", 1.0)
    HUB_HOUSEKEEPING_SECONDS = _float("HUB_HOUSEKEEPING_SECONDS", 1.0)
    RECENT_UPDATES_SECONDS = _int("RECENT_UPDATES_SECONDS", 30)

    # Dashboard client (app/static/js/live-orders.js), passed through data- attributes.
    FALLBACK_POLL_MS = _int("FALLBACK_POLL_MS", 10000)  # JSON polling while the stream is down
    LIVE_OFFLINE_GRACE_MS = _int("LIVE_OFFLINE_GRACE_MS", 3000)  # amber before red + polling
    LIVE_BACKOFF_MAX_MS = _int("LIVE_BACKOFF_MAX_MS", 30000)  # cap of the reconnect backoff
    # A hidden tab gives up its stream after this long and catches up when shown again.
    LIVE_HIDDEN_GRACE_MS = _int("LIVE_HIDDEN_GRACE_MS", 60000)

    # Rate limits (Flask-Limiter; limit strings like "10 per minute"). Counters live in Redis
    # when REDIS_URL is set, so every worker and host shares them; in memory otherwise.
    RATELIMIT_ENABLED = os.environ.get("RATELIMIT_ENABLED", "1") == "1"
    # Unset: create_app uses REDIS_URL when there is one, else "memory://".
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or None
    # A Redis outage must not take logins and checkouts down: count in memory meanwhile.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_KEY_PREFIX = "orderpulse"
    # Login attempts per client address and username; checkouts (HTML and JSON) per user.
    RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN", "10 per minute")
    RATELIMIT_CHECKOUT = os.environ.get("RATELIMIT_CHECKOUT", "30 per minute")

    # /metrics: these client addresses, or "Authorization: Bearer <METRICS_TOKEN>".
    METRICS_ALLOWED_IPS = tuple(
        ip.strip() for ip in os.environ.get("METRICS_ALLOWED_IPS", "127.0.0.1,::1").split(",")
    )
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None

    EXPOSE_WORKER_PID = os.environ.get("EXPOSE_WORKER_PID") == "1"  # tests only

    # Order-writing transactions at once per worker (app/services/write_gate.py).
    ORDER_WRITE_CONCURRENCY = _int("ORDER_WRITE_CONCURRENCY", 4)

    # The shop's time zone (IANA name): date filters, presets and the CSV's ordered_at use
    # its local days. Checked at startup (app/services/shop_time.py); stored times stay UTC.
    SHOP_TIMEZONE = os.environ.get("SHOP_TIMEZONE", "UTC")
    # CSV export pace (rows/s per export; 0: as fast as the worker can). An export shares its
    # gevent worker with checkouts and the dashboards' fan-out: see docs/admin-tools.md.
    EXPORT_MAX_ROWS_PER_SECOND = _int("EXPORT_MAX_ROWS_PER_SECOND", 30000)

    CHECKOUT_MAX_LINES = 50
    CHECKOUT_MAX_QUANTITY = 99
    SIGNUP_CREDITS = _int("SIGNUP_CREDITS", 1000)


class DevelopmentConfig(Config):
    """Local demo: SQLite under ``instance/``, debug off unless FLASK_DEBUG says so."""


class ProductionConfig(Config):
    """Refuses to start without ``SECRET_KEY`` and ``DATABASE_URL`` (DESIGN.md §6)."""

    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True

    @classmethod
    def validate(cls) -> None:
        """Raise ``RuntimeError`` naming each missing variable."""
        missing = [name for name in ("SECRET_KEY", "DATABASE_URL") if not os.environ.get(name)]
        if missing:
            raise RuntimeError(f"ProductionConfig needs environment variables: {missing}")


class TestConfig(Config):
    """Fast intervals and CSRF off by default; tests that check CSRF turn it back on."""

    TESTING = True
    SECRET_KEY = "test-secret"
    WTF_CSRF_ENABLED = False
    REDIS_URL = None
    # Off so that tests can log in and check out freely; tests/test_limits.py turns it on.
    RATELIMIT_ENABLED = False
    SSE_HEARTBEAT_SECONDS = 0.2
    SSE_LIFETIME_SECONDS = 3.0
    SSE_LIFETIME_JITTER_SECONDS = 0.0
    SSE_RETRY_MS = 50
    HUB_COALESCE_SECONDS = 0.01
    HUB_VERSION_POLL_SECONDS = 0.05
    HUB_HOUSEKEEPING_SECONDS = 0.05


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestConfig,
}

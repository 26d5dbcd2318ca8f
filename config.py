"""Configuration classes, read from the environment (docs/design.md §2).

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

    # None: app/secret_key.py reads SECRET_KEY when the app is built, and in development
    # makes a random key once under instance/ (never a constant: issue 11, finding 1).
    SECRET_KEY = None
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'orderpulse.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL") or None
    REDIS_CHANNEL = os.environ.get("REDIS_CHANNEL", "orderpulse:orders")
    # How commits reach every worker: auto = Redis with REDIS_URL, else PostgreSQL
    # LISTEN/NOTIFY on PostgreSQL, else in-process with a version poll (SQLite).
    REALTIME_BACKEND = os.environ.get("REALTIME_BACKEND", "auto")
    PG_NOTIFY_CHANNEL = os.environ.get("PG_NOTIFY_CHANNEL", "orderpulse_orders")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 64 * 1024  # bytes: no legitimate request here is larger
    WTF_CSRF_TIME_LIMIT = None  # an admin tab stays open all day; the token lives with the session

    # Real-time engine (docs/design.md §1). Seconds unless the name says otherwise.
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
    # Open streams' sessions are checked in the database this often (one query per worker):
    # sessions ended straight in the database close their streams within this bound.
    SSE_REVALIDATE_SECONDS = _float("SSE_REVALIDATE_SECONDS", 5.0)
    RECENT_UPDATES_SECONDS = _int("RECENT_UPDATES_SECONDS", 30)
    # Resume window: a client back within this many versions and seconds gets what it
    # missed in its first frame; further behind, one "reset" frame (one reload request).
    SSE_RESUME_MAX_VERSIONS = _int("SSE_RESUME_MAX_VERSIONS", 1000)
    SSE_RESUME_MAX_SECONDS = _float("SSE_RESUME_MAX_SECONDS", 600)

    # Dashboard client (app/static/js/dashboard/), passed through data- attributes.
    FALLBACK_POLL_MS = _int("FALLBACK_POLL_MS", 10000)  # JSON polling while the stream is down
    LIVE_OFFLINE_GRACE_MS = _int("LIVE_OFFLINE_GRACE_MS", 3000)  # amber before red + polling
    LIVE_BACKOFF_MAX_MS = _int("LIVE_BACKOFF_MAX_MS", 30000)  # cap of the reconnect backoff
    # 0: a hidden tab keeps listening (title count, notices). Shops that want the old
    # behaviour set a delay after which a hidden tab gives up its stream; it resumes from
    # its version when shown again.
    LIVE_HIDDEN_GRACE_MS = _int("LIVE_HIDDEN_GRACE_MS", 0)
    # An admin's advance or cancel offers "Undo" this long (app/services/undo.py).
    UNDO_SECONDS = _int("UNDO_SECONDS", 10)

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
    # Failed logins (app/login_guard.py): per client address and username, per address over
    # all usernames (password spraying), per username from any address (a browser with the
    # user's device cookie is exempt: strangers cannot lock the owner out), per device cookie.
    RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN", "10 per minute")
    RATELIMIT_LOGIN_ADDRESS = os.environ.get("RATELIMIT_LOGIN_ADDRESS", "60 per hour")
    RATELIMIT_LOGIN_USERNAME = os.environ.get("RATELIMIT_LOGIN_USERNAME", "30 per hour")
    RATELIMIT_LOGIN_DEVICE = os.environ.get("RATELIMIT_LOGIN_DEVICE", "10 per minute")
    # Registrations (every POST: each valid one costs a password hash) per client address.
    RATELIMIT_REGISTER = os.environ.get("RATELIMIT_REGISTER", "10 per hour")
    # Checkouts (HTML and JSON) per user.
    RATELIMIT_CHECKOUT = os.environ.get("RATELIMIT_CHECKOUT", "30 per minute")

    # /metrics: these client addresses, or "Authorization: Bearer <METRICS_TOKEN>".
    METRICS_ALLOWED_IPS = tuple(
        ip.strip() for ip in os.environ.get("METRICS_ALLOWED_IPS", "127.0.0.1,::1").split(",")
    )
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None

    # Behind one reverse proxy (deploy/nginx.conf) that sets X-Forwarded-For/-Proto itself:
    # the client address and scheme come from those headers. Off, they are never read.
    PROXY_FIX = os.environ.get("PROXY_FIX") == "1"

    EXPOSE_WORKER_PID = False  # never in production: DevelopmentConfig lets tests turn it on
    HSTS_SECONDS = 0  # production only (ProductionConfig)

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

    # Cross-process tests need to know which gunicorn worker served a stream.
    EXPOSE_WORKER_PID = os.environ.get("EXPOSE_WORKER_PID") == "1"


class ProductionConfig(Config):
    """Refuses to start without ``DATABASE_URL`` and without a strong ``SECRET_KEY``
    (docs/design.md §6; the key is checked in app/secret_key.py)."""

    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    # Strict-Transport-Security max-age in seconds (0: no header). Browsers then refuse plain
    # HTTP to this host, so a network attacker cannot strip TLS from a returning admin.
    HSTS_SECONDS = _int("HSTS_SECONDS", 31536000)

    @classmethod
    def validate(cls) -> None:
        """Raise ``RuntimeError`` when ``DATABASE_URL`` is missing."""
        if not os.environ.get("DATABASE_URL"):
            raise RuntimeError("ProductionConfig needs the environment variable DATABASE_URL")


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
    SSE_REVALIDATE_SECONDS = 0.2


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestConfig,
}

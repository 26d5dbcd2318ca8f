"""Configuration classes, read from the environment (docs/design.md §2).

Every interval is configuration so tests can run the real-time engine in milliseconds.
Units are in the names: ``*_SECONDS`` are seconds, ``*_MS`` milliseconds.

Every environment variable the app or ``gunicorn.conf.py`` reads is named in ``SETTINGS``
(add a new setting's name there). Values are parsed when this module is imported; a value
that does not parse, an unknown ``ORDERPULSE_*`` variable, a retired setting or an unknown
configuration name is a ``ConfigError`` from ``check_environment`` (called by
``create_app`` and ``gunicorn.conf.py``), whose one-line message names it.
"""

import difflib
import ipaddress
import os
import re
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
PREFIX = "ORDERPULSE_"

# Every environment variable read by the app and gunicorn.conf.py: one list, so that a
# typo in an ORDERPULSE_* name is refused rather than silently ignored.
SETTINGS = frozenset(
    {
        # environment and secrets
        "ORDERPULSE_CONFIG",
        "SECRET_KEY",
        "DATABASE_URL",
        # real-time fan-out
        "REDIS_URL",
        "REDIS_CHANNEL",
        "REALTIME_BACKEND",
        "PG_NOTIFY_CHANNEL",
        "SSE_HEARTBEAT_SECONDS",
        "SSE_LIFETIME_SECONDS",
        "SSE_LIFETIME_JITTER_SECONDS",
        "SSE_RETRY_MS",
        "SSE_MAX_STREAMS_PER_USER",
        "SSE_EVENT_QUEUE_SIZE",
        "SSE_WRITE_TIMEOUT_SECONDS",
        "SSE_SEND_BUFFER_BYTES",
        "SSE_DIRECT_WRITE",
        "HUB_COALESCE_SECONDS",
        "HUB_VERSION_POLL_SECONDS",
        "HUB_HOUSEKEEPING_SECONDS",
        "SSE_REVALIDATE_SECONDS",
        "SSE_SHUTDOWN_SPREAD_SECONDS",
        "RECENT_UPDATES_SECONDS",
        "SSE_RESUME_MAX_VERSIONS",
        "SSE_RESUME_MAX_SECONDS",
        "PRESENCE_RENEW_SECONDS",
        "PRESENCE_TTL_SECONDS",
        "PRESENCE_LEAVE_GRACE_SECONDS",
        "PRESENCE_COALESCE_SECONDS",
        "FALLBACK_POLL_MS",
        "LIVE_OFFLINE_GRACE_MS",
        "LIVE_BACKOFF_MAX_MS",
        "LIVE_HIDDEN_GRACE_MS",
        "LIVE_BURST_QUIET_MS",
        "LIVE_BURST_MAX_MS",
        "UNDO_SECONDS",
        "NOTE_EDIT_SECONDS",
        "LOW_STOCK_THRESHOLD",
        # sessions and accounts
        "SESSION_IDLE_TIMEOUT_SECONDS",
        "SESSION_ABSOLUTE_TIMEOUT_SECONDS",
        "SESSION_MAX_PER_USER",
        "SESSION_TOUCH_SECONDS",
        "SESSION_PRUNE_SECONDS",
        "SESSION_CACHE_SECONDS",
        "PASSWORD_HASH_THREADS",
        # rate limits
        "RATELIMIT_ENABLED",
        "RATELIMIT_STORAGE_URI",
        "RATELIMIT_LOGIN",
        "RATELIMIT_LOGIN_ADDRESS",
        "RATELIMIT_LOGIN_USERNAME",
        "RATELIMIT_LOGIN_DEVICE",
        "RATELIMIT_PASSWORD_SESSION",
        "RATELIMIT_PASSWORD_USER",
        "RATELIMIT_REGISTER",
        "RATELIMIT_CHECKOUT",
        "RATELIMIT_STOREFRONT_STREAM",
        # proxies, metrics, headers
        "FORWARDED_ALLOW_IPS",
        "METRICS_ALLOWED_IPS",
        "METRICS_TOKEN",
        "PROMETHEUS_MULTIPROC_DIR",
        "EXPOSE_WORKER_PID",
        "HSTS_SECONDS",
        # the shop
        "SHOP_TIMEZONE",
        "EXPORT_MAX_ROWS_PER_SECOND",
        "ORDER_WRITE_CONCURRENCY",
        "SIGNUP_CREDITS",
        # gunicorn.conf.py
        "BIND",
        "WEB_CONCURRENCY",
        "WORKER_CONNECTIONS",
        "GRACEFUL_TIMEOUT",
        "ACCESS_LOG",
        "LOG_LEVEL",
        "GUNICORN_CONTROL_SOCKET",
    }
)
# -- Operations (logs, pool, releases; docs/operations.md) ----------------------------------
# ORDERPULSE_ENV_FILE is set by deploy/orderpulse.service (gunicorn.conf.py reads the file
# again in a new master); ORDERPULSE_HANDOVER_SECONDS is read by deploy/orderpulse-reload.
OPERATIONS_SETTINGS = frozenset(
    {
        "LOG_FORMAT",
        "DATABASE_POOL_SIZE",
        "DATABASE_MAX_OVERFLOW",
        "DATABASE_POOL_TIMEOUT_SECONDS",
        "STARTUP_CHECKS",
        "ORDERPULSE_ENV_FILE",
        "ORDERPULSE_HANDOVER_SECONDS",
    }
)
SETTINGS = SETTINGS | OPERATIONS_SETTINGS
# -- end of the operations settings ---------------------------------------------------------
# Settings that are no longer read, with what replaced them: refused, not ignored.
RETIRED = {
    "PROXY_FIX": "forwarded headers are trusted from the addresses in FORWARDED_ALLOW_IPS "
    "(default 127.0.0.1,::1); remove PROXY_FIX",
}
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
_INT = re.compile(r"[+-]?[0-9]{1,18}")
_problems: list[str] = []


class ConfigError(RuntimeError):
    """A setting the app refuses to start with; ``str()`` is one line naming it."""


def _env(name: str) -> str | None:
    if name not in SETTINGS:  # a programming error: every setting is declared above
        raise AssertionError(f"{name} is read but not declared in config.SETTINGS")
    return os.environ.get(name)


def _refused(name: str, raw: str, expected: str, default):
    _problems.append(f"{name}={raw!r} is not {expected}")
    return default


def _str(name: str, default: str | None) -> str | None:
    raw = _env(name)
    return default if raw is None else raw


def _int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    if not _INT.fullmatch(raw.strip()):
        return _refused(name, raw, "an integer (ASCII digits)", default)
    return int(raw)


def _float(name: str, default: float) -> float:
    raw = _env(name)
    if raw is None:
        return default
    try:
        value = float(raw) if raw.strip().isascii() else None
    except ValueError:
        value = None
    if value is None or value != value or value in (float("inf"), float("-inf")):
        return _refused(name, raw, "a number", default)
    return value


def parse_bool(raw: str) -> bool | None:
    """``True`` for 1/true/yes/on, ``False`` for 0/false/no/off (any case, spaces
    around), ``None`` for anything else: the one boolean rule of every setting."""
    value = raw.strip().lower()
    return True if value in TRUE else False if value in FALSE else None


def _bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    value = parse_bool(raw)
    if value is None:
        return _refused(name, raw, "a boolean (1/true/yes/on or 0/false/no/off)", default)
    return value


def _addresses(name: str, default: str) -> tuple[str, ...]:
    """A comma-separated list of IP addresses or networks (``*``: any)."""
    raw = _str(name, default)
    items = tuple(item.strip() for item in raw.split(",") if item.strip())
    for item in items:
        if item != "*":
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                return _refused(name, raw, "a list of IP addresses or networks", ())
    return items


def check_environment(environ=None, config_name: str | None = None) -> str:
    """The configuration name to use (``config_name``, else ``ORDERPULSE_CONFIG``, else
    ``development``), after checking the environment. Raises ``ConfigError`` with a
    one-line message for an unknown configuration name, an ``ORDERPULSE_*`` variable not
    in ``SETTINGS`` (with the closest known name), a retired setting, or a value that did
    not parse when this module was imported."""
    environ = os.environ if environ is None else environ
    for name in sorted(environ):
        if name in RETIRED:
            raise ConfigError(f"{name} is no longer read: {RETIRED[name]}")
        if name.startswith(PREFIX) and name not in SETTINGS:
            known = sorted(s for s in SETTINGS if s.startswith(PREFIX))
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(known)}"
            raise ConfigError(f"unknown setting {name}: {hint}")
    name = config_name or environ.get("ORDERPULSE_CONFIG") or "development"
    if name not in CONFIGS:
        choices = ", ".join(CONFIGS)
        raise ConfigError(f"ORDERPULSE_CONFIG={name!r} is not a configuration: use {choices}")
    if _problems:
        raise ConfigError(_problems[0])
    return name


def limit_storage(explicit: str | None, redis_url: str | None, database_url: str) -> str:
    """Where rate-limit counters live: ``RATELIMIT_STORAGE_URI`` when set, else Redis
    (``REDIS_URL``), else the PostgreSQL database (``app/limits_storage.py``), else this
    process's memory (SQLite: one worker). Every worker and host shares the first three."""
    if explicit:
        return explicit
    if redis_url:
        return redis_url
    if database_url.startswith(("postgresql", "postgres:")):
        return "orderpulse+" + database_url
    return "memory://"


class Config:
    """Defaults shared by every environment."""

    # None: app/secret_key.py reads SECRET_KEY when the app is built, and in development
    # makes a random key once under instance/ (never a constant: anyone who knows it can sign
    # any user's cookie).
    SECRET_KEY = None
    SQLALCHEMY_DATABASE_URI = _str(
        "DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'orderpulse.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL = _str("REDIS_URL", None) or None
    REDIS_CHANNEL = _str("REDIS_CHANNEL", "orderpulse:orders")
    # How commits reach every worker: auto = Redis with REDIS_URL, else PostgreSQL
    # LISTEN/NOTIFY on PostgreSQL, else in-process with a version poll (SQLite).
    REALTIME_BACKEND = _str("REALTIME_BACKEND", "auto")
    PG_NOTIFY_CHANNEL = _str("PG_NOTIFY_CHANNEL", "orderpulse_orders")

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
    SSE_DIRECT_WRITE = _bool("SSE_DIRECT_WRITE", True)
    HUB_COALESCE_SECONDS = _float("HUB_COALESCE_SECONDS", 0.25)
    HUB_VERSION_POLL_SECONDS = _float("HUB_VERSION_POLL_SECONDS", 1.0)
    HUB_HOUSEKEEPING_SECONDS = _float("HUB_HOUSEKEEPING_SECONDS", 1.0)
    # Open streams' sessions are checked in the database this often (one query per worker):
    # sessions ended straight in the database close their streams within this bound.
    SSE_REVALIDATE_SECONDS = _float("SSE_REVALIDATE_SECONDS", 5.0)
    # A worker that shuts down (a deploy's HUP, SIGTERM) ends its streams over this many
    # seconds, in small batches, each with a jittered retry: (app/realtime/shutdown.py), so
    # that thousands of clients do not reconnect to its replacement in the same instant.
    SSE_SHUTDOWN_SPREAD_SECONDS = _float("SSE_SHUTDOWN_SPREAD_SECONDS", 5.0)
    RECENT_UPDATES_SECONDS = _int("RECENT_UPDATES_SECONDS", 30)
    # Resume window: a client back within this many versions and seconds gets what it
    # missed in its first frame; further behind, one "reset" frame (one reload request).
    SSE_RESUME_MAX_VERSIONS = _int("SSE_RESUME_MAX_VERSIONS", 1000)
    SSE_RESUME_MAX_SECONDS = _float("SSE_RESUME_MAX_SECONDS", 600)
    # Presence (docs/design.md §5a, app/realtime/presence.py): each worker renews the
    # sessions whose dashboards it streams this often; an entry not renewed within the TTL
    # is gone (a worker that died); a session whose last stream closed leaves after the
    # grace (a stream that reconnects meanwhile keeps it); frames at most once per coalesce.
    # A closed tab is gone from the other dashboards within grace + coalesce (< 5 s).
    PRESENCE_RENEW_SECONDS = _float("PRESENCE_RENEW_SECONDS", 1.5)
    PRESENCE_TTL_SECONDS = _float("PRESENCE_TTL_SECONDS", 4.5)
    PRESENCE_LEAVE_GRACE_SECONDS = _float("PRESENCE_LEAVE_GRACE_SECONDS", 2.5)
    PRESENCE_COALESCE_SECONDS = _float("PRESENCE_COALESCE_SECONDS", 0.25)

    # Dashboard client (app/static/js/dashboard/), passed through data- attributes.
    FALLBACK_POLL_MS = _int("FALLBACK_POLL_MS", 10000)  # JSON polling while the stream is down
    LIVE_OFFLINE_GRACE_MS = _int("LIVE_OFFLINE_GRACE_MS", 3000)  # amber before red + polling
    LIVE_BACKOFF_MAX_MS = _int("LIVE_BACKOFF_MAX_MS", 30000)  # cap of the reconnect backoff
    # 0: a hidden tab keeps listening (title count, notices). Shops that want the old
    # behaviour set a delay after which a hidden tab gives up its stream; it resumes from
    # its version when shown again.
    LIVE_HIDDEN_GRACE_MS = _int("LIVE_HIDDEN_GRACE_MS", 0)
    # New orders less than this far apart are one burst: one chime, one desktop notification
    # (dashboard/bursts.js); a steady stream still notifies every LIVE_BURST_MAX_MS.
    LIVE_BURST_QUIET_MS = _int("LIVE_BURST_QUIET_MS", 4000)
    LIVE_BURST_MAX_MS = _int("LIVE_BURST_MAX_MS", 60000)
    # An admin's advance or cancel offers "Undo" this long (app/services/undo.py).
    UNDO_SECONDS = _int("UNDO_SECONDS", 10)
    # An admin may edit or delete their own internal note this long after writing it.
    NOTE_EDIT_SECONDS = _int("NOTE_EDIT_SECONDS", 900)
    # The storefront says "Only N left" at or below this stock.
    LOW_STOCK_THRESHOLD = _int("LOW_STOCK_THRESHOLD", 5)

    # Server-side sessions (app/services/sessions.py; OWASP Session Management Cheat Sheet):
    # a session ends after this long without a request, or this long after its login,
    # whatever its use; a user keeps at most SESSION_MAX_PER_USER (a new login ends the
    # oldest). last_seen_at is written at most every SESSION_TOUCH_SECONDS per session;
    # each worker deletes expired rows at a login at most every SESSION_PRUNE_SECONDS.
    SESSION_IDLE_TIMEOUT_SECONDS = _float("SESSION_IDLE_TIMEOUT_SECONDS", 7 * 86400)
    SESSION_ABSOLUTE_TIMEOUT_SECONDS = _float("SESSION_ABSOLUTE_TIMEOUT_SECONDS", 30 * 86400)
    SESSION_MAX_PER_USER = _int("SESSION_MAX_PER_USER", 20)
    SESSION_TOUCH_SECONDS = _float("SESSION_TOUCH_SECONDS", 60)
    SESSION_PRUNE_SECONDS = _float("SESSION_PRUNE_SECONDS", 600)
    # Stream requests (a reconnect storm) find a session this worker read within this many
    # seconds in memory instead of the database (app/services/session_cache.py; 0: off).
    # Revoke messages drop entries at once; this bounds what sends no message (a change
    # made straight in the database), as SSE_REVALIDATE_SECONDS does for open streams.
    SESSION_CACHE_SECONDS = _float("SESSION_CACHE_SECONDS", 5.0)

    # Rate limits (Flask-Limiter; limit strings like "10 per minute"). Counters live in Redis
    # when REDIS_URL is set, else in PostgreSQL, so every worker and host shares them; in
    # memory only on SQLite (config.limit_storage).
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    # Unset: Redis (REDIS_URL), else PostgreSQL (DATABASE_URL), else "memory://".
    RATELIMIT_STORAGE_URI = _str("RATELIMIT_STORAGE_URI", None) or None
    # A storage outage must not take logins and checkouts down: count in memory meanwhile.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_KEY_PREFIX = "orderpulse"
    # Failed logins (app/login_guard.py): per client address and username, per address over
    # all usernames (password spraying), per username from any address (a browser with the
    # user's device cookie is exempt: strangers cannot lock the owner out), per device cookie.
    RATELIMIT_LOGIN = _str("RATELIMIT_LOGIN", "10 per minute")
    RATELIMIT_LOGIN_ADDRESS = _str("RATELIMIT_LOGIN_ADDRESS", "60 per hour")
    RATELIMIT_LOGIN_USERNAME = _str("RATELIMIT_LOGIN_USERNAME", "30 per hour")
    RATELIMIT_LOGIN_DEVICE = _str("RATELIMIT_LOGIN_DEVICE", "10 per minute")
    # Registrations (every POST: each valid one costs a password hash) per client address.
    RATELIMIT_REGISTER = _str("RATELIMIT_REGISTER", "10 per hour")
    # Wrong current passwords on the account page, per session and per user (each costs a
    # hash, like a login): a stolen session cannot guess the password it would change.
    RATELIMIT_PASSWORD_SESSION = _str("RATELIMIT_PASSWORD_SESSION", "5 per minute")
    RATELIMIT_PASSWORD_USER = _str("RATELIMIT_PASSWORD_USER", "10 per hour")
    # Checkouts (HTML and JSON) per user.
    RATELIMIT_CHECKOUT = _str("RATELIMIT_CHECKOUT", "30 per minute")
    # Opening the storefront's stock stream, per user or (signed out) per address.
    RATELIMIT_STOREFRONT_STREAM = _str("RATELIMIT_STOREFRONT_STREAM", "60 per minute")

    # /metrics: these client addresses, or "Authorization: Bearer <METRICS_TOKEN>".
    METRICS_ALLOWED_IPS = _addresses("METRICS_ALLOWED_IPS", "127.0.0.1,::1")
    METRICS_TOKEN = _str("METRICS_TOKEN", None) or None

    # X-Forwarded-For/-Proto are believed only from these peers (gunicorn's
    # forwarded_allow_ips, the same variable): the reverse proxy (deploy/nginx.conf), which
    # sets them itself. From any other address they are ignored (app/proxies.py).
    FORWARDED_ALLOW_IPS = _addresses("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

    # gunicorn workers per host (gunicorn.conf.py); production checks the limits' storage.
    WEB_CONCURRENCY = _int("WEB_CONCURRENCY", 1)
    EXPOSE_WORKER_PID = False  # never in production: DevelopmentConfig lets tests turn it on
    HSTS_SECONDS = 0  # production only (ProductionConfig)

    # Order-writing transactions at once per worker (app/services/write_gate.py).
    ORDER_WRITE_CONCURRENCY = _int("ORDER_WRITE_CONCURRENCY", 4)

    # The shop's time zone (IANA name): date filters, presets and the CSV's ordered_at use
    # its local days. Checked at startup (app/services/shop_time.py); stored times stay UTC.
    SHOP_TIMEZONE = _str("SHOP_TIMEZONE", "UTC")
    # CSV export pace (rows/s per export; 0: as fast as the worker can). An export shares its
    # gevent worker with checkouts and the dashboards' fan-out: see docs/admin-tools.md.
    EXPORT_MAX_ROWS_PER_SECOND = _int("EXPORT_MAX_ROWS_PER_SECOND", 30000)

    # -- Operations: logs, database pool, startup checks (docs/operations.md) ---------------
    # Their names are in OPERATIONS_SETTINGS (below SETTINGS).
    # "text" (one line per record) or "json" (one JSON object per line, python-json-logger);
    # gunicorn.conf.py reads the same variable (logsetup.py), so a process has one format.
    LOG_FORMAT = _str("LOG_FORMAT", "text")
    # SQLAlchemy pool per worker process (connections): the PostgreSQL budget is
    # hosts x WEB_CONCURRENCY x (DATABASE_POOL_SIZE + DATABASE_MAX_OVERFLOW + 1 listener).
    DATABASE_POOL_SIZE = _int("DATABASE_POOL_SIZE", 5)
    DATABASE_MAX_OVERFLOW = _int("DATABASE_MAX_OVERFLOW", 10)
    DATABASE_POOL_TIMEOUT_SECONDS = _float("DATABASE_POOL_TIMEOUT_SECONDS", 10)
    # Each worker checks the database and Redis once at boot and logs what it found.
    STARTUP_CHECKS = _bool("STARTUP_CHECKS", True)
    # -- end of the operations block -------------------------------------------------------

    CHECKOUT_MAX_LINES = 50
    CHECKOUT_MAX_QUANTITY = 99
    SIGNUP_CREDITS = _int("SIGNUP_CREDITS", 1000)


class DevelopmentConfig(Config):
    """Local demo: SQLite under ``instance/``, debug off unless FLASK_DEBUG says so."""

    # Cross-process tests need to know which gunicorn worker served a stream.
    EXPOSE_WORKER_PID = _bool("EXPOSE_WORKER_PID", False)


class ProductionConfig(Config):
    """Refuses to start without ``DATABASE_URL`` and without a strong ``SECRET_KEY``
    (docs/design.md §6; the key is checked in app/secret_key.py)."""

    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    # Strict-Transport-Security max-age in seconds (0: no header). Browsers then refuse plain
    # HTTP to this host, so a network attacker cannot strip TLS from a returning admin.
    HSTS_SECONDS = _int("HSTS_SECONDS", 31536000)

    @staticmethod
    def validate(config) -> None:
        """Raise ``ConfigError`` when ``DATABASE_URL`` is missing, or when several workers
        (``WEB_CONCURRENCY``) would each count rate limits in their own memory: 2 workers
        would let twice the limit through (``limit_storage``)."""
        if not os.environ.get("DATABASE_URL"):
            raise ConfigError("ProductionConfig needs the environment variable DATABASE_URL")
        if config["WEB_CONCURRENCY"] > 1 and config["RATELIMIT_STORAGE_URI"] == "memory://":
            raise ConfigError(
                f"WEB_CONCURRENCY={config['WEB_CONCURRENCY']} with rate limits in each "
                "worker's memory: set REDIS_URL, use PostgreSQL, or run one worker"
            )


class TestConfig(Config):
    """Fast intervals and CSRF off by default; tests that check CSRF turn it back on."""

    TESTING = True
    SECRET_KEY = "test-secret"
    WTF_CSRF_ENABLED = False
    REDIS_URL = None
    # Off so that tests can log in and check out freely; tests/test_limits.py turns it on.
    RATELIMIT_ENABLED = False
    SSE_HEARTBEAT_SECONDS = 0.2
    # Longer than any test's wait on a loaded machine (a stream that ended at 3 s failed a
    # test whose events were still coming); the lifetime's own test sets 0.5 s.
    SSE_LIFETIME_SECONDS = 60.0
    SSE_LIFETIME_JITTER_SECONDS = 0.0
    SSE_RETRY_MS = 50
    HUB_COALESCE_SECONDS = 0.01
    HUB_VERSION_POLL_SECONDS = 0.05
    HUB_HOUSEKEEPING_SECONDS = 0.05
    SSE_REVALIDATE_SECONDS = 0.2
    SESSION_CACHE_SECONDS = 0.2
    SSE_SHUTDOWN_SPREAD_SECONDS = 0.2
    PRESENCE_RENEW_SECONDS = 0.2
    PRESENCE_TTL_SECONDS = 1.0
    PRESENCE_LEAVE_GRACE_SECONDS = 0.2
    PRESENCE_COALESCE_SECONDS = 0.02


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestConfig,
}

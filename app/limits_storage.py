"""Rate-limit counters in PostgreSQL, for Flask-Limiter (the ``limits`` library's storage
interface, fixed-window strategy), so that every worker and host counts against the same
limits when there is no Redis (``config.limit_storage``).

URI: ``orderpulse+postgresql+psycopg://...`` (the database URL with a prefix). Counters
live in ``rate_limit_counters`` (``app/models/rate_limit.py``); each hit is one atomic
upsert on its own small connection pool, outside the request's transaction (a limit counts
even when the request rolls back). Expired rows are deleted every ``PRUNE_SECONDS`` per
process. Times are the database's clock, so hosts with skewed clocks agree.
"""

import threading
import time

import sqlalchemy as sa
from limits.storage import Storage

PRUNE_SECONDS = 600.0
_NOW = "(statement_timestamp() AT TIME ZONE 'UTC')"
_INCR = sa.text(
    f"""
    INSERT INTO rate_limit_counters AS c (key, count, expires_at)
    VALUES (:key, :amount, {_NOW} + make_interval(secs => :expiry))
    ON CONFLICT (key) DO UPDATE SET
      count = CASE WHEN c.expires_at <= {_NOW} THEN :amount ELSE c.count + :amount END,
      expires_at = CASE WHEN c.expires_at <= {_NOW} THEN EXCLUDED.expires_at
                        ELSE c.expires_at END
    RETURNING count
    """
)
_GET = sa.text(f"SELECT count FROM rate_limit_counters WHERE key = :key AND expires_at > {_NOW}")
_EXPIRY = sa.text(
    "SELECT EXTRACT(EPOCH FROM expires_at AT TIME ZONE 'UTC') FROM rate_limit_counters "
    f"WHERE key = :key AND expires_at > {_NOW}"
)
_PRUNE = sa.text(f"DELETE FROM rate_limit_counters WHERE expires_at <= {_NOW}")


class PostgresStorage(Storage):
    """``limits`` storage on PostgreSQL (fixed window): ``incr``, ``get``, ``get_expiry``,
    ``clear``, ``reset``, ``check`` as the ``limits.storage.Storage`` interface defines
    them (counts are ints, expiries Unix seconds)."""

    STORAGE_SCHEME = ["orderpulse+postgresql", "orderpulse+postgresql+psycopg"]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        url = sa.engine.make_url(uri.removeprefix("orderpulse+"))
        self.engine = sa.create_engine(
            url, pool_size=2, max_overflow=8, pool_pre_ping=True, isolation_level="AUTOCOMMIT"
        )
        self._pruned = time.monotonic()
        self._lock = threading.Lock()

    @property
    def base_exceptions(self):
        return sa.exc.SQLAlchemyError

    def _run(self, statement, **params):
        with self.engine.connect() as conn:
            return conn.execute(statement, params).scalar()

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` to ``key``'s window (a new window of ``expiry`` seconds once the
        old one ended); the count after it."""
        count = self._run(_INCR, key=key, amount=amount, expiry=float(expiry))
        self._prune_now_and_then()
        return int(count)

    def get(self, key: str) -> int:
        return int(self._run(_GET, key=key) or 0)

    def get_expiry(self, key: str) -> float:
        value = self._run(_EXPIRY, key=key)
        return float(value) if value is not None else time.time()

    def check(self) -> bool:
        try:
            self._run(sa.text("SELECT 1"))
            return True
        except sa.exc.SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.text("DELETE FROM rate_limit_counters")).rowcount

    def clear(self, key: str) -> None:
        with self.engine.connect() as conn:
            conn.execute(sa.text("DELETE FROM rate_limit_counters WHERE key = :key"), {"key": key})

    def _prune_now_and_then(self) -> None:
        with self._lock:
            if time.monotonic() - self._pruned < PRUNE_SECONDS:
                return
            self._pruned = time.monotonic()
        with self.engine.connect() as conn:
            conn.execute(_PRUNE)

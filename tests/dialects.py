"""SQL compiled once per test process instead of once per test.

Every test builds its own app, so every test gets a new engine and a new dialect object.
SQLAlchemy caches compiled statements under a key that holds the dialect, compared by
identity: a new dialect never finds what the previous test compiled, neither in the
engine's cache nor in the ORM's per-mapper caches for flushes, and compiling was about a
tenth of the unit tests' time. The dialects below are the stock ones (same URLs, same
drivers, same SQL) with one difference: two of them compare equal when they would
compile alike (same class, parameter style, server version and label length), so those
caches hit across engines. ``SHARED_CACHE`` is the engines' own statement cache, shared
through the public ``compiled_cache`` execution option (``make_app`` passes it).

``register()`` puts them in SQLAlchemy's dialect registry under the stock names, so the
URLs the app sees are unchanged (the app insists on ``postgresql+psycopg``)."""

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.util import LRUCache

# Far more statements than the app has; LRU all the same, like the engines' own.
SHARED_CACHE = LRUCache(5000)


class _ComparedByCompilation:
    """Equal to another dialect of the same class that compiles the same way. The hash
    is the class's alone, so it cannot change when ``initialize`` (on the first connect)
    learns the server's version."""

    supports_statement_cache = True

    def _compiles_as(self) -> tuple:
        return (type(self), self.paramstyle, self.server_version_info, self.label_length)

    def __eq__(self, other):
        if not isinstance(other, _ComparedByCompilation):
            return NotImplemented
        return self._compiles_as() == other._compiles_as()

    def __hash__(self):
        return hash(type(self))


class SQLiteDialect(_ComparedByCompilation, SQLiteDialect_pysqlite):
    supports_statement_cache = True


class PostgreSQLDialect(_ComparedByCompilation, PGDialect_psycopg):
    supports_statement_cache = True


def register() -> None:
    """``sqlite://`` and ``postgresql+psycopg://`` URLs get the dialects above in this
    process."""
    for name, cls in [
        ("sqlite", "SQLiteDialect"),
        ("sqlite.pysqlite", "SQLiteDialect"),
        ("postgresql.psycopg", "PostgreSQLDialect"),
    ]:
        registry.register(name, __name__, cls)

"""Trigram indexes for substring search (PostgreSQL's pg_trgm, GIN): ``ILIKE '%text%'`` on
order numbers, usernames, emails and product names is an index lookup instead of a scan of
every row (docs/admin-tools.md, search). Other databases get no such index."""

import sqlalchemy as sa

from app.extensions import db


def trigram_index(table: str, column: str) -> sa.Index:
    """``ix_<table>_<column>_trgm``: a GIN ``gin_trgm_ops`` index, on PostgreSQL only."""
    return sa.Index(
        f"ix_{table}_{column}_trgm",
        column,
        postgresql_using="gin",
        postgresql_ops={column: "gin_trgm_ops"},
    ).ddl_if(dialect="postgresql")


# db.create_all (tests) needs the extension before the indexes; migrations create it too.
sa.event.listen(
    db.metadata,
    "before_create",
    sa.DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"),
)

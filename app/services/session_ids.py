"""Many session ids as one bound parameter: one JSON text, expanded by the database
(``json_array_elements_text`` on PostgreSQL, ``json_each`` on SQLite). One parameter
however many ids: psycopg dumps an array parameter item by item in Python, and thousands
of separate parameters cost SQLite and SQLAlchemy more still."""

import json

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from app.extensions import db


def each_of(ids: list[str]):
    """A column of ``ids``, for ``WHERE x == each_of(ids)`` or ``SELECT each_of(ids)``."""
    text = sa.bindparam("ids", json.dumps(ids), type_=sa.Text)
    if db.session.get_bind().dialect.name == "postgresql":
        expanded = sa.func.json_array_elements_text(sa.cast(text, postgresql.JSON))
        return expanded.column_valued("wanted")
    return sa.func.json_each(text).table_valued("value").c.value

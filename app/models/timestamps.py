"""UTC timestamps (docs/design.md §3: all timestamps are UTC)."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Naive UTC ``datetime``; SQLite keeps no zone, so every column stores naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def isoformat(value: datetime | None) -> str | None:
    """ISO 8601 with a ``Z`` suffix for a naive-UTC value, ``None`` passes through."""
    if value is None:
        return None
    return value.replace(microsecond=0).isoformat() + "Z"

"""The shop's day: dates in the shop's time zone (``SHOP_TIMEZONE``, an IANA name).

Every timestamp is stored as naive UTC (docs/design.md §3). People think in the shop's local
days, though: "today's orders", an export dated 28 November. This module turns a local date
into the UTC instants that bound it (DST-aware, through ``zoneinfo``), and formats stored
instants as ISO 8601 with the shop's offset.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app

KEY = "shop_timezone"
# Presets of the orders table: name → (days back to the first day, days back to the last).
PRESETS = {"today": (0, 0), "yesterday": (1, 1), "7d": (6, 0)}


def load_zone(name) -> ZoneInfo:
    """The ``ZoneInfo`` for ``name``; raises ``RuntimeError`` with a readable message for
    anything that is not an IANA zone name (the app refuses to start with it)."""
    if not isinstance(name, str) or not name.strip():
        raise RuntimeError("SHOP_TIMEZONE is empty: set an IANA time zone such as Europe/Paris")
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RuntimeError(
            f"SHOP_TIMEZONE={name!r} is not an IANA time zone name (e.g. UTC, Europe/Paris, "
            "America/New_York); install tzdata if the system has no zone database"
        ) from exc


def init_app(app: Flask) -> None:
    """Validate ``SHOP_TIMEZONE`` at startup and keep the zone in ``app.extensions``; every
    template gets its name as ``shop_zone`` (pages show times in it: ``<html
    data-time-zone>``, read by ``static/js/lib/shop-time.js``)."""
    app.extensions[KEY] = load_zone(app.config.get("SHOP_TIMEZONE", "UTC"))
    app.context_processor(lambda: {"shop_zone": app.extensions[KEY].key})


def zone() -> ZoneInfo:
    """The current app's shop zone."""
    return current_app.extensions[KEY]


def local_now(now: datetime | None = None) -> datetime:
    """``now`` (naive UTC, default the clock) as an aware datetime in the shop's zone."""
    instant = now.replace(tzinfo=UTC) if now else datetime.now(UTC)
    return instant.astimezone(zone())


def today(now: datetime | None = None) -> date:
    """The shop's local date at ``now`` (naive UTC; default the clock)."""
    return local_now(now).date()


def day_start(day: date) -> datetime:
    """Naive UTC instant of the shop's local midnight starting ``day``.

    On a day whose midnight does not exist (a DST jump at 00:00, e.g. America/Havana),
    ``zoneinfo`` reads 00:00 with the offset before the jump, which is the jump itself: the
    first instant of that local day, as wanted.
    """
    local = datetime.combine(day, time(0), tzinfo=zone())
    return local.astimezone(UTC).replace(tzinfo=None)


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """``(start, end)`` naive UTC for the local days ``first`` to ``last`` inclusive:
    ``start <= t < end``. Local days are 23, 24 or 25 hours long around DST changes."""
    return day_start(first), day_start(last + timedelta(days=1))


def preset(name: str, now: datetime | None = None) -> tuple[date, date]:
    """``(first, last)`` local dates of a preset: ``today``, ``yesterday`` or ``7d`` (the
    last 7 days, today included). ``KeyError`` for another name."""
    back_first, back_last = PRESETS[name]
    current = today(now)
    return current - timedelta(days=back_first), current - timedelta(days=back_last)


def isoformat(value: datetime | None) -> str | None:
    """A naive-UTC instant as ISO 8601 in the shop's zone with its offset, to the second
    (``2026-11-28T09:15:00+01:00``); ``None`` passes through."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC, microsecond=0).astimezone(zone()).isoformat()

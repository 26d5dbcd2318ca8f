"""Revenue and order counts by hour, today against yesterday, for the dashboard chart."""

from datetime import datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import Order
from app.models._time import utcnow
from app.services import Invalid

MAX_OFFSET_MINUTES = 14 * 60  # UTC-14 .. UTC+14 covers every zone in use


def parse_offset(raw: str | None) -> int:
    """``?offset=`` minutes east of UTC (the browser's ``-getTimezoneOffset()``), an integer
    in -840..840, 0 when absent; raises ``Invalid`` (400) otherwise."""
    if raw is None or raw.strip() == "":
        return 0
    raw = raw.strip()
    digits = raw[1:] if raw[:1] in "+-" else raw
    if not digits.isdigit() or abs(int(raw)) > MAX_OFFSET_MINUTES:
        raise Invalid(
            f"offset must be an integer from -{MAX_OFFSET_MINUTES} to {MAX_OFFSET_MINUTES}", 400
        )
    return int(raw)


def hourly_revenue(offset_minutes: int = 0, now: datetime | None = None) -> dict:
    """Per local hour (0..23) of today and of yesterday, in the zone ``offset_minutes`` east of
    UTC: ``{today: [24 ints], yesterday: [24 ints], orders_today: [24 ints],
    orders_yesterday: [24 ints], day_start: datetime}``.

    Revenue is the credits of orders placed in that hour and not cancelled (a cancellation
    refunds them); order counts include every order placed. Hours of today still to come are
    0. One query over two days of orders (``date_ordered`` is indexed).
    """
    now = now or utcnow()
    shift = timedelta(minutes=offset_minutes)
    local_now = now + shift
    today_start = local_now.replace(hour=0, minute=0, second=0, microsecond=0) - shift
    yesterday_start = today_start - timedelta(days=1)
    rows = db.session.execute(
        sa.select(Order.date_ordered, Order.total_credits, Order.cancelled).where(
            Order.date_ordered >= yesterday_start,
            Order.date_ordered < today_start + timedelta(days=1),
        )
    ).all()
    result = {
        "today": [0] * 24,
        "yesterday": [0] * 24,
        "orders_today": [0] * 24,
        "orders_yesterday": [0] * 24,
    }
    for placed, credits, cancelled in rows:
        day = "today" if placed >= today_start else "yesterday"
        start = today_start if day == "today" else yesterday_start
        hour = min(23, int((placed - start).total_seconds() // 3600))
        result[f"orders_{day}"][hour] += 1
        if not cancelled:
            result[day][hour] += credits
    result["day_start"] = today_start
    return result

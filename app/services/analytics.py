"""Revenue and order counts by hour, today against yesterday, for the dashboard chart, summed
from the 15-minute ``revenue_buckets`` (never a scan of orders)."""

from datetime import UTC, datetime, timedelta

from app.models.timestamps import utcnow
from app.services import Invalid, revenue

MAX_OFFSET_MINUTES = 14 * 60  # UTC-14 .. UTC+14 covers every zone in use


def check_offset(offset: int) -> int:
    """``offset`` minutes east of UTC (the browser's ``-getTimezoneOffset()``) if it is in
    -840..840 and a multiple of 15 (every zone in use is); raises ``Invalid`` (400)."""
    if abs(offset) > MAX_OFFSET_MINUTES or offset % 15:
        raise Invalid(
            f"offset must be a multiple of 15 from -{MAX_OFFSET_MINUTES} to {MAX_OFFSET_MINUTES}",
            400,
        )
    return offset


def hourly_revenue(offset_minutes: int = 0, now: datetime | None = None) -> dict:
    """Per local hour (0..23) of today and of yesterday, in the zone ``offset_minutes`` east of
    UTC: ``{today: [24 ints], yesterday: [24 ints], orders_today: [24 ints],
    orders_yesterday: [24 ints], cancelled_today: [24 ints], cancelled_yesterday: [24 ints],
    day_start: datetime}``.

    Revenue is the credits of orders placed in that hour and not cancelled (a cancellation
    refunds them); ``orders_*`` count the live orders placed then (not cancelled, as the
    status cards count), ``cancelled_*`` the cancelled ones. Hours of today still to come are
    0. One primary-key range over at most 192 buckets; a 15-minute bucket never straddles
    a local hour, since the offset is a multiple of 15 minutes.
    """
    now = now or utcnow()
    shift = timedelta(minutes=offset_minutes)
    local_now = now + shift
    today_start = local_now.replace(hour=0, minute=0, second=0, microsecond=0) - shift
    yesterday_start = today_start - timedelta(days=1)
    result = {
        "today": [0] * 24,
        "yesterday": [0] * 24,
        "orders_today": [0] * 24,
        "orders_yesterday": [0] * 24,
        "cancelled_today": [0] * 24,
        "cancelled_yesterday": [0] * 24,
    }
    first = revenue.bucket_of(yesterday_start)
    end = revenue.bucket_of(today_start + timedelta(days=1))
    for start, credits, orders, cancelled in revenue.between(first, end):
        placed = datetime.fromtimestamp(start, UTC).replace(tzinfo=None)
        day = "today" if placed >= today_start else "yesterday"
        day_start = today_start if day == "today" else yesterday_start
        hour = int((placed - day_start).total_seconds() // 3600)
        result[f"orders_{day}"][hour] += orders - cancelled
        result[f"cancelled_{day}"][hour] += cancelled
        result[day][hour] += credits
    result["day_start"] = today_start
    return result

"""Recent orders for the dashboard feed and the JSON fallback."""

from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models import Order
from app.models.timestamps import utcnow


def recent_orders(seconds: float, limit: int = 50) -> list[Order]:
    """Orders created or changed in the last ``seconds``, newest change first (uses the
    ``updated_at`` index; at most ``limit`` rows, customers loaded in the same query)."""
    since = utcnow() - timedelta(seconds=seconds)
    return list(
        db.session.scalars(
            sa.select(Order)
            .options(so.joinedload(Order.customer))
            .where(Order.updated_at >= since)
            .order_by(Order.updated_at.desc(), Order.id.desc())
            .limit(limit)
        )
    )

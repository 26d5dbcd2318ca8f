"""Recent orders for the dashboard feed and the JSON fallback."""

from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models import Order, User
from app.models._time import utcnow

MAX_PAGE = 10_000


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


def search_orders(status: str | None = None, q: str | None = None, page: int = 1, per_page=25):
    """The dashboard table: newest first, optionally one ``status`` (or ``"Cancelled"``) and a
    search ``q`` matching order number, username or email. Returns Flask-SQLAlchemy's
    ``Pagination``."""
    query = sa.select(Order).options(so.joinedload(Order.customer)).join(Order.customer)
    if status == "Cancelled":
        query = query.where(Order.cancelled.is_(True))
    elif status:
        query = query.where(Order.status == status, Order.cancelled.is_(False))
    if q:
        pattern = f"%{q.strip()}%"
        query = query.where(
            sa.or_(
                Order.order_number.ilike(pattern),
                User.username.ilike(pattern),
                User.email.ilike(pattern),
            )
        )
    query = query.order_by(Order.date_ordered.desc(), Order.id.desc())
    # A huge ?page= would overflow the database's OFFSET (a 500); past the end is empty.
    page = min(max(page, 1), MAX_PAGE)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)

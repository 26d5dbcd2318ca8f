"""Browsing the catalogue."""

import sqlalchemy as sa

from app.extensions import db
from app.models import Product

MAX_PAGE = 10_000


def categories() -> list[str]:
    """Distinct categories of active products, alphabetical."""
    return list(
        db.session.scalars(
            sa.select(Product.category).where(Product.active).distinct().order_by(Product.category)
        )
    )


def browse(category: str | None, q: str | None, page: int, per_page: int = 24):
    """Active products filtered by ``category`` and a name/description search ``q``;
    Flask-SQLAlchemy ``Pagination``."""
    query = sa.select(Product).where(Product.active)
    if category:
        query = query.where(Product.category == category)
    if q:
        pattern = f"%{q.strip()[:100]}%"
        query = query.where(
            sa.or_(Product.name.ilike(pattern), Product.description.ilike(pattern))
        )
    query = query.order_by(Product.category, Product.name)
    # A huge ?page= would overflow the database's OFFSET (a 500); past the end is empty.
    page = min(max(page, 1), MAX_PAGE)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)

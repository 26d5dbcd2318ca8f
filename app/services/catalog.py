"""Browsing the catalogue."""

import sqlalchemy as sa

from app.extensions import db
from app.models import Product
from app.services import paging


def categories() -> list[str]:
    """Distinct categories of active products, alphabetical."""
    return list(
        db.session.scalars(
            sa.select(Product.category).where(Product.active).distinct().order_by(Product.category)
        )
    )


def browse(category: str | None, q: str | None, page: int, per_page: int = 24):
    """Active products filtered by ``category`` and a name/description search ``q``;
    Flask-SQLAlchemy ``Pagination`` (a page past the end shows the last page)."""
    query = sa.select(Product).where(Product.active)
    if category:
        query = query.where(Product.category == category)
    if q:
        pattern = f"%{q.strip()[:100]}%"
        query = query.where(
            sa.or_(Product.name.ilike(pattern), Product.description.ilike(pattern))
        )
    query = query.order_by(Product.category, Product.name, Product.id)
    return paging.paginate(query, page, per_page)

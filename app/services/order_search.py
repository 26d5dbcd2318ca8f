"""Search of the orders table (``q``): order number, customer's username or email, the
name of a product in the order, or one of its tags; case-insensitive and literal (``%``,
``_`` and ``\\`` are no wildcards). Bounded on a large shop, whatever the text
(docs/admin-tools.md, search):

1. the small tables first: the customers and products whose names hold the text;
2. the candidate orders, each way capped at ``CAP`` + 1 (order numbers through a pg_trgm
   index, orders by customer, order lines by product: index lookups that stop early);
3. fewer than ``CAP`` candidates in all ("sparse"): the view keeps exactly those ids, and
   its count, page and ids cost next to nothing; more ("dense"): the view filters on the
   text itself, its rows come from an index scan that stops after a page, and its count
   stops at ``CAP`` (shown as "10,000+").

The plan is made once per request (``flask.g``) and reused by the count, the page and the
ids of that request.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy.dialects.postgresql import ARRAY

from app.extensions import db
from app.models import Order, OrderItem, OrderTag, Product, User

CAP = 10_000


def like_pattern(text: str) -> str:
    """``%text%`` with ``\\``, ``%`` and ``_`` escaped (``ESCAPE '\\'``): the admin's text
    is matched literally, never as LIKE wildcards."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class TextMatch:
    """``condition`` (a WHERE clause on ``Order``) and whether more than ``CAP`` orders
    may match (``dense``: counts of the view are bounded at ``CAP``)."""

    condition: sa.ColumnElement
    dense: bool


def text_match(q: str) -> TextMatch:
    """The plan for ``q`` (see the module's docstring), made once per request."""
    if not has_request_context():
        return _plan(q)
    plans = g.setdefault("order_search_plans", {})
    if q not in plans:
        plans[q] = _plan(q)
    return plans[q]


def _plan(q: str) -> TextMatch:
    pattern = like_pattern(q)

    def like(column):
        return column.ilike(pattern, escape="\\")

    # correlate(None): the view's own query joins users (and the export products); these
    # subqueries stand on their own.
    customers = (
        sa.select(User.id).where(sa.or_(like(User.username), like(User.email))).correlate(None)
    )
    products = sa.select(Product.id).where(like(Product.name)).correlate(None)
    user_ids = list(db.session.scalars(customers.limit(CAP + 1)))
    product_ids = list(db.session.scalars(products.limit(CAP + 1)))
    found: set[int] = set()
    if len(user_ids) <= CAP and len(product_ids) <= CAP:
        ways = [sa.select(Order.id).where(like(Order.order_number))]
        if user_ids:
            ways.append(sa.select(Order.id).where(Order.user_id.in_(user_ids)))
        if product_ids:
            ways.append(sa.select(OrderItem.order_id).where(OrderItem.product_id.in_(product_ids)))
        ways.append(sa.select(OrderTag.order_id).where(like(OrderTag.tag)).distinct())
        for way in ways:
            found.update(db.session.scalars(way.limit(CAP + 1)))
            if len(found) > CAP:
                break
        else:
            return TextMatch(_one_of(Order.id, list(found)), dense=False)
    # The ids fetched above (each at most CAP) stand in for their subqueries, which the
    # database would otherwise run again for every order it looks at.
    by_customer = (
        Order.user_id.in_(customers) if len(user_ids) > CAP else _one_of(Order.user_id, user_ids)
    )
    lines = (
        sa.select(OrderItem.id)
        .where(OrderItem.order_id == Order.id, _one_of(OrderItem.product_id, product_ids))
        .correlate(Order)
    )
    tagged = sa.select(OrderTag.tag).where(OrderTag.order_id == Order.id, like(OrderTag.tag))
    parts = [like(Order.order_number), by_customer, tagged.correlate(Order).exists()]
    if product_ids:
        parts.append(lines.exists())
    return TextMatch(sa.or_(*parts), dense=True)


def _one_of(column, ids: list[int]):
    """``column = ANY(:ids)`` on PostgreSQL (one array parameter, however many ids), an
    ``IN`` list elsewhere; false for no ids."""
    if not ids:
        return sa.false()
    if db.engine.dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, sorted(ids), type_=ARRAY(sa.Integer)))
    return column.in_(sorted(ids))

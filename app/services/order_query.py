"""The orders table's view: filter, search, date range and sort, shared by the admin page,
the "select all matching" ids API and the CSV export, so all three see the same orders."""

from dataclasses import dataclass, replace
from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_sqlalchemy.pagination import Pagination

from app.extensions import db
from app.models import ORDER_STATUSES, Order, OrderTag, User
from app.services import keyset, order_search, paging, shop_time
from app.services.order_search import text_match

SORTS = ("ordered", "total", "status")
DIRECTIONS = ("desc", "asc")
# Workflow position, so "status ascending" reads Pending → Delivered, cancelled orders last.
STATUS_RANK = sa.case(
    (Order.cancelled.is_(True), len(ORDER_STATUSES)),
    *((Order.status == s, i) for i, s in enumerate(ORDER_STATUSES)),
    else_=len(ORDER_STATUSES),
)


@dataclass(frozen=True)
class OrderFilter:
    """One view of the orders table (``app.web.args.order_filter_args`` builds it).

    ``status``: a status or ``"Cancelled"`` (status filters exclude cancelled orders, as the
    counts do); ``q``: matches order number, username, email, product name or tag
    (case-insensitive, literally: ``app/services/order_search.py``);
    ``date_from``/``date_to``: local dates in ``SHOP_TIMEZONE``, inclusive; ``sort`` one of
    ``SORTS``, ``direction`` ``asc``/``desc`` (ties broken by id, same direction);
    ``range``: the preset that set the dates, kept for links; ``tag``: a normalised tag
    the order carries.
    """

    status: str | None = None
    q: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "ordered"
    direction: str = "desc"
    range: str | None = None
    tag: str | None = None

    def conditions(self) -> list:
        """The WHERE clauses (``User`` must be joined for ``q``)."""
        where = []
        if self.status == "Cancelled":
            where.append(Order.cancelled.is_(True))
        elif self.status:
            where += [Order.status == self.status, Order.cancelled.is_(False)]
        if self.q:
            where.append(text_match(self.q).condition)
        if self.tag:
            where.append(
                sa.exists().where(OrderTag.order_id == Order.id, OrderTag.tag == self.tag)
            )
        if self.date_from:
            where.append(Order.date_ordered >= shop_time.day_start(self.date_from))
        if self.date_to:
            _, end = shop_time.day_bounds(self.date_to, self.date_to)
            where.append(Order.date_ordered < end)
        return where

    def ordering(self) -> list:
        """ORDER BY terms; the id last makes the order total (stable paging and export)."""
        keys = {
            "ordered": [Order.date_ordered],
            "total": [Order.total_credits],
            "status": [STATUS_RANK, Order.date_ordered],
        }[self.sort] + [Order.id]
        return [k.asc() if self.direction == "asc" else k.desc() for k in keys]

    def apply(self, query: sa.Select) -> sa.Select:
        """``query`` (which selects from ``Order``) joined to its customer, filtered and
        sorted."""
        return query.join(User, User.id == Order.user_id).where(*self.conditions())

    def params(self) -> dict:
        """The query-string arguments that rebuild this view (defaults left out), for links
        and the ``data-*`` attributes of the dashboard."""
        values = {
            "status": self.status,
            "q": self.q,
            "tag": self.tag,
            "sort": None if self.sort == "ordered" else self.sort,
            "dir": None if self.direction == "desc" else self.direction,
        }
        if self.range:
            values["range"] = self.range
        else:
            values["from"] = self.date_from.isoformat() if self.date_from else None
            values["to"] = self.date_to.isoformat() if self.date_to else None
        return {k: v for k, v in values.items() if v is not None}

    @classmethod
    def from_params(cls, params: dict) -> "OrderFilter":
        """The view ``params()`` gave (already checked when it was built: a saved view's
        arguments); a ``range`` is resolved to today's dates again."""
        view = cls(
            status=params.get("status"),
            q=params.get("q"),
            tag=params.get("tag"),
            sort=params.get("sort", "ordered"),
            direction=params.get("dir", "desc"),
            range=params.get("range"),
            date_from=date.fromisoformat(params["from"]) if params.get("from") else None,
            date_to=date.fromisoformat(params["to"]) if params.get("to") else None,
        )
        if view.range:
            first, last = shop_time.preset(view.range)
            return replace(view, date_from=first, date_to=last)
        return view


def search_orders(
    view: OrderFilter, page: int = 1, per_page: int = 25, cursor: keyset.Cursor | None = None
) -> Pagination:
    """The dashboard table: one page of ``view`` (customers loaded in the same query).

    With a ``cursor`` (``app/services/keyset.py``) the page is the ``per_page`` rows right
    after (or before) that row's key: "Next" never repeats a row of the page it came from
    while orders arrive; a cursor before the first row gives the first page, one past the
    last row the last page. Else the ``page``-th page by offset; a page past the end shows
    the last page (``app.services.paging``). With a search text the count stops after
    ``order_search.CAP`` + 1 ("10,000+": ``pagination.capped``;
    ``app/services/order_search.py``). Every page has ``next_cursor`` and
    ``prev_cursor`` (``None`` at either end) for its pager. The rows carry their tags
    (one more query)."""
    query = view.apply(
        sa.select(Order).options(
            so.contains_eager(Order.customer), so.selectinload(Order.tag_rows)
        )
    )
    result = _keyset_page(view, query, cursor, per_page) if cursor else None
    if result is None and cursor is not None:
        page = 1 if not cursor.after else paging.MAX_PAGE
    if result is None and not view.q:
        result = paging.paginate(query.order_by(*view.ordering()), page, per_page)
    elif result is None:

        def load(ids: list[int]) -> list[Order]:
            found = {o.id: o for o in db.session.scalars(query.where(Order.id.in_(ids)))}
            return [found[i] for i in ids if i in found]

        ids = _first_ids(view, order_search.CAP + 1)
        result = paging.from_ids(ids, order_search.CAP, page, per_page, load)
    items = result.items
    result.next_cursor = keyset.encode(keyset.key_of(view, items[-1])) if result.has_next else None
    result.prev_cursor = keyset.encode(keyset.key_of(view, items[0])) if result.has_prev else None
    return result


def _keyset_page(view: OrderFilter, query, cursor: keyset.Cursor, per_page: int):
    """The rows beside ``cursor`` as a ``KeysetPage``; ``None`` when they are the first
    page (fewer than a page before it) or there is none after it (the caller shows the
    first or the last page)."""
    ordering = view.ordering() if cursor.after else _flipped(view).ordering()
    rows = list(
        db.session.scalars(
            query.where(keyset.beyond(view, cursor)).order_by(*ordering).limit(per_page + 1)
        )
    )
    if cursor.after and not rows or not cursor.after and len(rows) <= per_page:
        return None
    items = rows[:per_page] if cursor.after else list(reversed(rows[:per_page]))
    more = len(rows) > per_page if cursor.after else True
    first = keyset.Cursor(keyset.key_of(view, items[0]), after=False)
    if view.q:
        ids = _first_ids(view, order_search.CAP + 1)
        total, capped = min(len(ids), order_search.CAP), len(ids) > order_search.CAP
        start = ids.index(items[0].id) if items[0].id in ids else total
    else:
        total, capped = _count(view.apply(sa.select(Order.id))), False
        start = _count(view.apply(sa.select(Order.id)).where(keyset.beyond(view, first)))
    return keyset.KeysetPage(items, total, capped, start, more, per_page)


def _flipped(view: OrderFilter) -> OrderFilter:
    return replace(view, direction="asc" if view.direction == "desc" else "desc")


def _count(query: sa.Select) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))


def matching_ids(view: OrderFilter, limit: int) -> tuple[list[int], int]:
    """``(ids, total)``: the first ``limit`` ids of ``view`` in its sort order and how many
    orders match in all (two queries: the count and the ids). With a search text, one
    query, and the count stops at ``order_search.CAP``."""
    if view.q:
        ids = _first_ids(view, max(limit, order_search.CAP + 1))
        return ids[: min(limit, order_search.CAP)], min(len(ids), order_search.CAP)
    matching = view.apply(sa.select(Order.id))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(matching.subquery()))
    ids = db.session.scalars(matching.order_by(*view.ordering()).limit(limit))
    return list(ids), total


def _first_ids(view: OrderFilter, limit: int) -> list[int]:
    query = view.apply(sa.select(Order.id)).order_by(*view.ordering()).limit(limit)
    return list(db.session.scalars(query))

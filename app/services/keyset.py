"""Keyset paging of the orders table: "Next" starts strictly after the last row the admin
saw and "Previous" ends strictly before the first, on the view's sort key plus the id
(docs/design.md §4, paging). Offsets shift while orders arrive (page 4 showed 8 of page
3's orders again); a key does not: every order placed meanwhile sorts before the cursor
of a newest-first view, so it never pushes a row seen on one page onto the next.

A cursor is the sort key of one row, written out: ``<placed>,<id>`` for the default sort
(``2026-12-07T09:11:00.123456,652``: naive UTC, as stored), ``<total>,<id>`` for
``sort=total``, ``<rank>,<placed>,<id>`` for ``sort=status`` (rank: the workflow position,
``order_query.STATUS_RANK``). It carries the key the admin saw, so a row that moved on
since (a status sort) cannot make the next page jump.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination

from app.models import ORDER_STATUSES, Order

MAX_CURSOR = 80  # characters: the longest real cursor is about 45


@dataclass(frozen=True)
class Cursor:
    """One row's sort key (``values``, the id last) and which side of it the page lies:
    ``after`` (the rows that follow it in the view's order) or not (the rows before it)."""

    values: tuple
    after: bool


def key_columns(view) -> list:
    """The view's sort key as SQL expressions, the id last (``OrderFilter.ordering``
    without the direction)."""
    from app.services.order_query import STATUS_RANK

    return {
        "ordered": [Order.date_ordered],
        "total": [Order.total_credits],
        "status": [STATUS_RANK, Order.date_ordered],
    }[view.sort] + [Order.id]


def key_of(view, order: Order) -> tuple:
    """The sort key of a loaded ``order`` in ``view`` (as ``key_columns`` computes it)."""
    if view.sort == "total":
        return (order.total_credits, order.id)
    if view.sort == "status":
        rank = (
            len(ORDER_STATUSES)
            if order.cancelled or order.status not in ORDER_STATUSES
            else ORDER_STATUSES.index(order.status)
        )
        return (rank, order.date_ordered, order.id)
    return (order.date_ordered, order.id)


def encode(values: tuple) -> str:
    """A cursor's text (see the module's docstring)."""
    return ",".join(v.isoformat() if isinstance(v, datetime) else str(int(v)) for v in values)


def parse(view, raw: str | None, after: bool) -> Cursor | None:
    """The cursor in ``raw`` for ``view``'s sort, or ``None`` when ``raw`` is absent or not
    one (the page then shows the view's first page: pages are lenient)."""
    if not raw or len(raw) > MAX_CURSOR:
        return None
    parts = raw.strip().split(",")
    kinds = {"ordered": "ti", "total": "ii", "status": "iti"}[view.sort]
    if len(parts) != len(kinds):
        return None
    values = []
    for kind, part in zip(kinds, parts, strict=True):
        try:
            if kind == "t":
                value = datetime.fromisoformat(part)
                if value.tzinfo is not None:
                    return None
            else:
                if not part.isascii() or not part.lstrip("-").isdigit() or len(part) > 19:
                    return None
                value = int(part)
        except ValueError:
            return None
        values.append(value)
    return Cursor(tuple(values), after)


def beyond(view, cursor: Cursor):
    """The WHERE clause of the rows on the cursor's side, in the view's order: for a
    descending view "after" means a smaller key. A row value comparison, which the
    ``(key, id)`` indexes serve on PostgreSQL and SQLite alike."""
    columns = sa.tuple_(*key_columns(view))
    values = sa.tuple_(
        *(
            sa.literal(v, type_=c.type)
            for v, c in zip(cursor.values, key_columns(view), strict=True)
        )
    )
    later = cursor.after == (view.direction == "asc")
    return columns > values if later else columns < values


class KeysetPage(Pagination):
    """One page of the orders table found by a key (``Pagination``'s attributes, so the
    page and its pager read it like any other page).

    ``start``: how many rows of the view sort before this page's first row, now (the page's
    "84–108 of 659"); ``page`` is the page those rows make, rounded (at least 2 when any
    row comes before); ``more``: rows follow the last one. ``total`` is the live count, so
    ``pages`` follows it."""

    def __init__(self, items, total, capped, start, more, per_page):
        self._items, self._total, self.capped = items, total, capped
        self.start, self.more = start, more
        page = 1 if start <= 0 else max(2, round(start / per_page) + 1)
        super().__init__(page=page, per_page=per_page, max_per_page=None, error_out=False)

    def _query_items(self) -> list:
        return self._items

    def _query_count(self) -> int:
        return self._total

    @property
    def pages(self) -> int:
        counted = -(-(self.total or 0) // self.per_page)
        return max(counted, self.page + (1 if self.more else 0))

    @property
    def first(self) -> int:
        return self.start + 1 if self.items else 0

    @property
    def has_prev(self) -> bool:
        return self.start > 0

    @property
    def has_next(self) -> bool:
        return self.more

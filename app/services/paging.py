"""Pagination rules shared by every paged list (admin table, my orders, catalogue)."""

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination, SelectPagination

from app.extensions import db

# A huge ?page= would overflow the database's OFFSET (a 500). 10,000 pages of 100 rows is
# far past anything a person pages through; the filters and sorting get there faster.
MAX_PAGE = 10_000


class BoundedPagination(SelectPagination):
    """A page whose count stops at ``cap`` (``total`` is then ``cap`` and ``capped`` true):
    counting every match of a broad search on a large table costs more than the page."""

    def __init__(self, cap: int, **kwargs):
        self.cap = cap
        self.capped = False
        super().__init__(**kwargs)

    def _query_count(self) -> int:
        select = self._query_args["select"].order_by(None).limit(self.cap + 1).subquery()
        total = self._query_args["session"].scalar(sa.select(sa.func.count()).select_from(select))
        self.capped = total > self.cap
        return min(total, self.cap)


def paginate(query, page: int, per_page: int, cap: int | None = None) -> Pagination:
    """``db.paginate`` with ``page`` clamped to 1..``MAX_PAGE``; a page past the end shows the
    last page (never "page 999 of 27" over an empty table). One extra query only then.
    With ``cap``, the count stops there (``BoundedPagination``)."""
    page = min(max(page, 1), MAX_PAGE)

    def one(number: int) -> Pagination:
        if cap is None:
            return db.paginate(query, page=number, per_page=per_page, error_out=False)
        return BoundedPagination(
            cap,
            select=query,
            session=db.session(),
            page=number,
            per_page=per_page,
            max_per_page=None,
            error_out=False,
            count=True,
        )

    result = one(page)
    if page > 1 and not result.items and result.total:
        result = one(min(result.pages, MAX_PAGE))
    return result

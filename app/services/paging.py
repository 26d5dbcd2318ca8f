"""Pagination rules shared by every paged list (admin table, my orders, catalogue)."""

from flask_sqlalchemy.pagination import Pagination

from app.extensions import db

# A huge ?page= would overflow the database's OFFSET (a 500). 10,000 pages of 100 rows is
# far past anything a person pages through; the filters and sorting get there faster.
MAX_PAGE = 10_000


class ListPagination(Pagination):
    """A page of items found beforehand: ``total`` is what was counted, ``capped`` whether
    the count stopped at its cap (show "10,000+")."""

    def __init__(self, items: list, total: int, capped: bool, page: int, per_page: int):
        self._items, self._total, self.capped = items, total, capped
        super().__init__(page=page, per_page=per_page, max_per_page=None, error_out=False)

    def _query_items(self) -> list:
        return self._items

    def _query_count(self) -> int:
        return self._total


def from_ids(ids: list, cap: int, page: int, per_page: int, load) -> ListPagination:
    """A page over ``ids`` (the view's ids in its order, at most ``cap`` + 1 of them: one
    more means "more than ``cap``"); ``load(page_ids)`` returns that page's items in the
    same order. A page past the end shows the last page, as ``paginate``; past ``cap``
    there is no page (the admin narrows the search)."""
    total = min(len(ids), cap)
    last = max(1, -(-total // per_page))
    page = min(max(page, 1), last, MAX_PAGE)
    chosen = ids[:cap][(page - 1) * per_page : page * per_page]
    return ListPagination(load(chosen), total, len(ids) > cap, page, per_page)


def paginate(query, page: int, per_page: int) -> Pagination:
    """``db.paginate`` with ``page`` clamped to 1..``MAX_PAGE``; a page past the end shows the
    last page (never "page 999 of 27" over an empty table). One extra query only then."""
    page = min(max(page, 1), MAX_PAGE)
    result = db.paginate(query, page=page, per_page=per_page, error_out=False)
    if page > 1 and not result.items and result.total:
        last = min(result.pages, MAX_PAGE)
        result = db.paginate(query, page=last, per_page=per_page, error_out=False)
    return result

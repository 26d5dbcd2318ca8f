"""Pagination rules shared by every paged list (admin table, my orders, catalogue)."""

from flask_sqlalchemy.pagination import Pagination

from app.extensions import db

# A huge ?page= would overflow the database's OFFSET (a 500). 10,000 pages of 100 rows is
# far past anything a person pages through; the filters and sorting get there faster.
MAX_PAGE = 10_000


def paginate(query, page: int, per_page: int) -> Pagination:
    """``db.paginate`` with ``page`` clamped to 1..``MAX_PAGE``; a page past the end shows the
    last page (never "page 999 of 27" over an empty table). One extra query only then."""
    page = min(max(page, 1), MAX_PAGE)
    result = db.paginate(query, page=page, per_page=per_page, error_out=False)
    if page > 1 and not result.items and result.total:
        last = min(result.pages, MAX_PAGE)
        result = db.paginate(query, page=last, per_page=per_page, error_out=False)
    return result

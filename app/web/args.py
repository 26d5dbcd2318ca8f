"""Query-string parsing for every route: one place for ``int``, choice and date arguments.

Pages are lenient: a bad value falls back to the default (or is clamped into range), so a
hand-edited URL still shows something sensible. API routes pass ``strict=True``: a bad value
is a 400 JSON error naming the argument, never a silent guess and never a 500.
"""

import re
from contextvars import ContextVar
from dataclasses import replace
from datetime import date
from urllib.parse import parse_qsl

from flask import abort, request
from werkzeug.datastructures import MultiDict

from app.models import ORDER_STATUSES
from app.services import Invalid, keyset, shop_time, tags
from app.services.order_query import DIRECTIONS, SORTS, OrderFilter
from app.services.paging import MAX_PAGE

STATUS_FILTERS = (*ORDER_STATUSES, "Cancelled")
PER_PAGE_CHOICES = (25, 50, 100)
MAX_Q = 100
MAX_VERSION = 10**18 - 1  # versions (since, before, version) are int64 counters
# ASCII digits only: str.isdigit() accepts "²" and "١", which int() then refuses (a 500)
# or reads as a number nobody typed. Callers check the range; longer than 30 digits is junk
# (and int() refuses 4,300+ digits).
_INT = re.compile(r"[+-]?[0-9]{1,30}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Dates the zone arithmetic can always handle (a day before year 1 or after 9999 overflows).
MIN_DATE, MAX_DATE = date(1970, 1, 1), date(9998, 12, 31)


def _refuse(name: str, expected: str):
    abort(400, description=f"{name} must be {expected}")


# Arguments read from a saved query string instead of the request's (``view_from_query``).
_SOURCE: ContextVar[MultiDict | None] = ContextVar("query_args", default=None)


def _raw(name: str) -> str | None:
    source = _SOURCE.get()
    value = (source if source is not None else request.args).get(name)
    return value.strip() if value is not None and value.strip() else None


def parse_int(raw: str | None) -> int | None:
    """The one integer rule for every query argument, header and form id: an optional sign
    and 1..30 ASCII digits (spaces around allowed), else ``None``; callers check the
    range."""
    if raw is None:
        return None
    raw = raw.strip()
    return int(raw) if _INT.fullmatch(raw) else None


def int_arg(name: str, lo: int, hi: int, default: int | None, strict: bool = False) -> int | None:
    """``?name=`` as an int in ``lo..hi`` (``parse_int``); ``default`` when absent or blank
    (``None`` with ``strict``: a 400, the argument is required). Lenient: a non-integer
    gives ``default`` and an out-of-range value is clamped. Strict: 400 for either
    (``{"success": false, "error": "<name> must be an integer from lo to hi"}``)."""
    raw = _raw(name)
    if raw is None:
        if strict and default is None:
            _refuse(name, f"an integer from {lo} to {hi}")
        return default
    value = parse_int(raw)
    if value is None:
        if strict:
            _refuse(name, f"an integer from {lo} to {hi}")
        return default
    if not lo <= value <= hi:
        if strict:
            _refuse(name, f"an integer from {lo} to {hi}")
        return min(max(value, lo), hi)
    return value


def choice_arg(name: str, choices, default, strict: bool = False):
    """``?name=`` if it is one of ``choices`` (compared as text, returned as the choice
    itself, so int choices come back as ints); ``default`` when absent or, unless
    ``strict`` (400), when it is not a choice."""
    raw = _raw(name)
    if raw is None:
        return default
    for choice in choices:
        if raw == str(choice):
            return choice
    if strict:
        _refuse(name, "one of " + ", ".join(str(c) for c in choices))
    return default


def date_arg(name: str, strict: bool = False) -> date | None:
    """``?name=YYYY-MM-DD`` (a date in the shop's zone, 1970..9998) or ``None`` when absent;
    anything else is ``None`` (lenient) or a 400 (strict)."""
    raw = _raw(name)
    if raw is None:
        return None
    try:
        value = date.fromisoformat(raw) if _DATE.fullmatch(raw) else None
    except ValueError:
        value = None
    if value is None or not MIN_DATE <= value <= MAX_DATE:
        if strict:
            _refuse(name, "a date YYYY-MM-DD")
        return None
    return value


def page_arg() -> int:
    """``?page=`` for any paged list: 1..``MAX_PAGE``, lenient (paging shows the last page
    when it is past the end)."""
    return int_arg("page", 1, MAX_PAGE, 1)


def cursor_arg(view: OrderFilter) -> keyset.Cursor | None:
    """``?after=`` or ``?before=`` (a row's sort key, ``app/services/keyset.py``) for the
    orders table's ``view``; ``after`` wins when both are given. Lenient: a value that is
    no cursor for this sort is ignored (the view's first page)."""
    after = _raw("after")
    if after is not None:
        return keyset.parse(view, after, after=True)
    return keyset.parse(view, _raw("before"), after=False)


def tag_arg(strict: bool = False) -> str | None:
    """``?tag=`` as a stored tag (``tags.normalise``), ``None`` when absent; a value that is
    no tag is dropped (lenient) or a 400 (strict)."""
    raw = _raw("tag")
    if raw is None:
        return None
    try:
        return tags.normalise(raw)
    except Invalid:
        if strict:
            _refuse("tag", "a tag: 1 to 32 letters or digits")
        return None


def order_filter_args(strict: bool = False) -> OrderFilter:
    """The orders table's view from the query string (admin page, CSV, ids API):

    ``status`` (a status or ``Cancelled``), ``q`` (order number, username or email; first
    100 characters), ``from``/``to`` (local dates, inclusive) or ``range`` (``today``,
    ``yesterday``, ``7d``: overrides ``from``/``to``, so a bookmark stays "today"),
    ``sort`` (``ordered``, ``total``, ``status``), ``dir`` (``asc``, ``desc``) and ``tag``
    (a tag the orders carry; normalised as tags are stored).
    Lenient: bad values are dropped (``from`` after ``to`` are swapped). Strict: 400.
    """
    q = _raw("q")
    view = OrderFilter(
        status=choice_arg("status", STATUS_FILTERS, None, strict),
        q=q[:MAX_Q] if q else None,
        date_from=date_arg("from", strict),
        date_to=date_arg("to", strict),
        sort=choice_arg("sort", SORTS, "ordered", strict),
        direction=choice_arg("dir", DIRECTIONS, "desc", strict),
        range=choice_arg("range", tuple(shop_time.PRESETS), None, strict),
        tag=tag_arg(strict),
    )
    if view.range:
        first, last = shop_time.preset(view.range)
        return replace(view, date_from=first, date_to=last)
    if view.date_from and view.date_to and view.date_from > view.date_to:
        if strict:
            _refuse("from", "on or before to")
        return replace(view, date_from=view.date_to, date_to=view.date_from)
    return view


def view_from_query(query: str) -> OrderFilter:
    """The orders table's view from a query string (a saved view's), strictly: a 400 for a
    bad value, as on the API. ``page`` and ``per_page`` are not part of a view."""
    token = _SOURCE.set(MultiDict(parse_qsl(query.lstrip("?"), keep_blank_values=True)))
    try:
        return order_filter_args(strict=True)
    finally:
        _SOURCE.reset(token)

"""CSV export of the orders table's current view, streamed row by row.

Memory stays flat however many orders match: the orders and their items come through one
server-side cursor (``yield_per``: PostgreSQL ``DECLARE ... FETCH``, SQLite's lazy cursor)
in batches, and the CSV text leaves in chunks of about 64 KB.
"""

import csv
import io
import re
import time
from collections.abc import Iterator
from datetime import UTC

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import aggregate_order_by

from app.extensions import db
from app.models import Order, OrderItem, OrderTag, Product, User
from app.services import shop_time
from app.services.order_query import OrderFilter

COLUMNS = (
    "order_number",
    "ordered_at",
    "customer",
    "customer_email",
    "status",
    "cancelled",
    "cancellation_reason",
    "total_credits",
    "delivery_method",
    "delivery_address",
    "items",
    "refunded_credits",
    "tags",
    "carrier",
    "tracking_number",
)
BATCH = 2000  # rows (order lines) per cursor fetch
CHUNK_BYTES = 64 * 1024
# Rows between two yields of the CPU (~0.5 ms of work): under gevent every other request of
# the worker (a checkout's next query, the hub's fan-out) waits at most that long for us.
YIELD_EVERY = 20
# OWASP "CSV Injection": a cell that starts with one of these is read as a formula by
# Excel, LibreOffice and Google Sheets. Tab and carriage return are on OWASP's list too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The same after a separator a spreadsheet may split on (";" in many Excel locales, ",",
# tab, a line break), spaces allowed between: "Main St;=cmd|..." is two cells there.
_FORMULA_AT = re.compile(r"(^|[;,\t\r\n])( *)(?=[=+\-@\t\r])")


def neutralise(value: str) -> str:
    """``value`` with ``'`` put before every formula start: at the beginning of the cell and
    after each ``;``, ``,``, tab or line break (OWASP, "CSV Injection"), so a spreadsheet
    shows text, whatever separator it splits on."""
    return _FORMULA_AT.sub(lambda m: m.group(1) + m.group(2) + "'", value)


def filename(view: OrderFilter) -> str:
    """A name that says which view it holds: ``orders[-<status>][-matching-<text>]
    [-<range>]-<dates>.csv``: ``orders-today-2026-12-07.csv``,
    ``orders-pending-2026-12-07.csv`` (no dates: today's, the day of the export),
    ``orders-7d-2026-12-01_2026-12-07.csv``, ``orders-2026-12-01_2026-12-05.csv``."""
    parts = ["orders"]
    if view.status:
        parts.append(_slug(view.status))
    if view.q:
        parts.append("matching-" + (_slug(view.q)[:24].strip("-") or "search"))
    if view.range:
        parts.append(view.range)
    first, last = view.date_from, view.date_to
    if first is None and last is None:
        parts.append(shop_time.today().isoformat())
    elif first == last:
        parts.append(first.isoformat())
    else:
        start = first.isoformat() if first else "start"
        parts.append(f"{start}_{last.isoformat() if last else 'now'}")
    return "-".join(parts) + ".csv"


def _slug(text: str) -> str:
    """Lower-case ASCII letters and digits, runs of anything else as one ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def csv_chunks(view: OrderFilter) -> Iterator[str]:
    """The header line and one line per order of ``view``, in its sort order, as text
    chunks of about ``CHUNK_BYTES``.

    Columns (``COLUMNS``): ``order_number``, ``ordered_at`` (ISO 8601 with the shop's
    offset), ``customer`` (username), ``customer_email``, ``status`` (``Cancelled`` for a
    cancelled order, as the dashboard shows it), ``cancelled`` (``true``/``false``),
    ``cancellation_reason`` (empty unless cancelled), ``total_credits`` (int),
    ``delivery_method``, ``delivery_address`` (empty for pickup), ``items`` (``"2 x Rye
    bread; 1 x Sencha green tea"``, in item order), ``refunded_credits`` (int: partial
    refunds; a cancel refunds the rest), ``tags`` (space-separated, alphabetical),
    ``carrier``, ``tracking_number``. Every text cell is quoted and neutralised against
    formula injection (``neutralise``); numbers are not quoted. Needs the app context (and
    the database) until the last chunk. Every ``YIELD_EVERY`` rows it yields the CPU
    (``time.sleep(0)``, gevent's under gunicorn), so the worker's other requests and the
    hub's fan-out to open dashboards go on during a long export.
    """
    buffer = io.StringIO()
    # RFC 4180 line ends; every text cell in quotes, so a separator inside it (";" in
    # "Main St; Flat 2") never splits it, whatever separator the spreadsheet uses.
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(COLUMNS)
    zone = shop_time.zone()
    pace = Pace(current_app.config.get("EXPORT_MAX_ROWS_PER_SECOND") or 0)
    for count, (order, items) in enumerate(_orders_with_items(view), 1):
        number, ordered, username, email, status, cancelled, reason, total, *rest = order
        method, address, refunded, tags, carrier, tracking = rest
        ordered = ordered.replace(tzinfo=UTC, microsecond=0).astimezone(zone)
        writer.writerow(
            (
                neutralise(number),
                ordered.isoformat(),
                neutralise(username),
                neutralise(email),
                "Cancelled" if cancelled else neutralise(status),
                "true" if cancelled else "false",
                neutralise(reason or "") if cancelled else "",
                total,
                neutralise(method),
                neutralise(address or ""),
                neutralise("; ".join(items)),
                refunded or 0,
                neutralise(tags or ""),
                neutralise(carrier or ""),
                neutralise(tracking or ""),
            )
        )
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        if count % YIELD_EVERY == 0:
            time.sleep(pace.wait(count))
    yield buffer.getvalue()


class Pace:
    """At most ``rows_per_second`` (0: no limit): ``wait(count)`` is how long to sleep so
    that ``count`` rows have not come sooner than that rate allows (0 when behind)."""

    def __init__(self, rows_per_second: float):
        self.rate = rows_per_second
        self.started = time.monotonic()

    def wait(self, count: int) -> float:
        if not self.rate:
            return 0
        return max(0.0, count / self.rate - (time.monotonic() - self.started))


def _orders_with_items(view: OrderFilter) -> Iterator[tuple[tuple, list[str]]]:
    """``((order_number, date_ordered, username, email, status, cancelled,
    cancellation_reason, total_credits, delivery_method, delivery_address,
    refunded_credits, tags, carrier, tracking_number),
    ["2 x Rye bread", ...])`` per order of ``view``.

    One query, orders joined to their items (the view's order, then the item id, so an
    order's lines are consecutive), read through a server-side cursor in batches: no
    second query per batch, and no IN list of thousands of ids to compile and parse.
    Core rows, not ORM objects: the export reads a million of them.
    """
    query = (
        view.apply(
            sa.select(
                Order.id,
                Order.order_number,
                Order.date_ordered,
                User.username,
                User.email,
                Order.status,
                Order.cancelled,
                Order.cancellation_reason,
                Order.total_credits,
                Order.delivery_method,
                Order.delivery_address,
                Order.refunded_credits,
                _tags_of_order(),
                Order.carrier,
                Order.tracking_number,
                OrderItem.quantity,
                Product.name,
            )
        )
        .outerjoin(OrderItem, OrderItem.order_id == Order.id)
        .outerjoin(Product, Product.id == OrderItem.product_id)
        .order_by(*view.ordering(), OrderItem.id)
    )
    result = db.session.connection().execute(query.execution_options(yield_per=BATCH))
    current, order, items = None, None, []
    for batch in result.partitions():
        for order_id, *fields, quantity, name in batch:
            if order_id != current:
                if order is not None:
                    yield order, items
                current, order, items = order_id, tuple(fields), []
            if quantity is not None:
                items.append(f"{quantity} x {name}")
    if order is not None:
        yield order, items
    result.close()


def _tags_of_order():
    """The order's tags as one space-separated, alphabetical string (a correlated subquery:
    an index range on ``order_tags``' primary key per order, and no extra row per tag)."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        joined = sa.func.string_agg(
            OrderTag.tag, aggregate_order_by(sa.literal_column("' '"), OrderTag.tag)
        )
    else:  # SQLite: rows come in primary-key order, so (order_id, tag) is alphabetical
        joined = sa.func.group_concat(OrderTag.tag, " ")
    return (
        sa.select(joined)
        .where(OrderTag.order_id == Order.id)
        .correlate(Order)
        .scalar_subquery()
        .label("tags")
    )

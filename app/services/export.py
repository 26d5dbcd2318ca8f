"""CSV export of the orders table's current view, streamed row by row.

Memory stays flat however many orders match: the orders and their items come through one
server-side cursor (``yield_per``: PostgreSQL ``DECLARE ... FETCH``, SQLite's lazy cursor)
in batches, and the CSV text leaves in chunks of about 64 KB.
"""

import csv
import io
import time
from collections.abc import Iterator
from datetime import UTC

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import Order, OrderItem, Product, User
from app.services import shop_time
from app.services.order_query import OrderFilter

COLUMNS = (
    "order_number",
    "ordered_at",
    "customer",
    "status",
    "cancelled",
    "total_credits",
    "delivery_method",
    "delivery_address",
    "items",
)
BATCH = 2000  # rows (order lines) per cursor fetch
CHUNK_BYTES = 64 * 1024
# Rows between two yields of the CPU (~0.5 ms of work): under gevent every other request of
# the worker (a checkout's next query, the hub's fan-out) waits at most that long for us.
YIELD_EVERY = 20
# OWASP "CSV Injection": a cell that starts with one of these is read as a formula by
# Excel, LibreOffice and Google Sheets. Tab and carriage return are on OWASP's list too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """``value`` prefixed with ``'`` when a spreadsheet would run it as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def filename(view: OrderFilter) -> str:
    """``orders-<shop's date today>[-<from>_<to>].csv``."""
    name = f"orders-{shop_time.today().isoformat()}"
    if view.date_from or view.date_to:
        first = view.date_from.isoformat() if view.date_from else "start"
        last = view.date_to.isoformat() if view.date_to else "now"
        name += f"-{first}_{last}"
    return name + ".csv"


def csv_chunks(view: OrderFilter) -> Iterator[str]:
    """The header line and one line per order of ``view``, in its sort order, as text
    chunks of about ``CHUNK_BYTES``.

    Columns: ``order_number``, ``ordered_at`` (ISO 8601 with the shop's offset),
    ``customer`` (username), ``status``, ``cancelled`` (``true``/``false``),
    ``total_credits`` (int), ``delivery_method``, ``delivery_address`` (empty for pickup),
    ``items`` (``"2 x Rye bread; 1 x Sencha green tea"``, in item order). Text cells are
    neutralised against formula injection. Needs the app context (and the database) until
    the last chunk. Every ``YIELD_EVERY`` rows it yields the CPU (``time.sleep(0)``,
    gevent's under gunicorn), so the worker's other requests and the hub's fan-out to open
    dashboards go on during a long export.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180 line ends
    writer.writerow(COLUMNS)
    zone = shop_time.zone()
    pace = Pace(current_app.config.get("EXPORT_MAX_ROWS_PER_SECOND") or 0)
    for count, (order, items) in enumerate(_orders_with_items(view), 1):
        number, ordered, username, status, cancelled, total, method, address = order
        ordered = ordered.replace(tzinfo=UTC, microsecond=0).astimezone(zone)
        writer.writerow(
            (
                neutralise(number),
                ordered.isoformat(),
                neutralise(username),
                neutralise(status),
                "true" if cancelled else "false",
                total,
                neutralise(method),
                neutralise(address or ""),
                neutralise("; ".join(items)),
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
    """``((order_number, date_ordered, username, status, cancelled, total_credits,
    delivery_method, delivery_address), ["2 x Rye bread", ...])`` per order of ``view``.

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
                Order.status,
                Order.cancelled,
                Order.total_credits,
                Order.delivery_method,
                Order.delivery_address,
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

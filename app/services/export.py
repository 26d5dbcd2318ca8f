"""CSV export of the orders table's current view, streamed row by row.

Memory stays flat however many orders match: the orders come through a server-side cursor
(``yield_per``: PostgreSQL ``DECLARE ... FETCH``, SQLite's lazy cursor) in batches, each
batch's items are read with one query, and the CSV text leaves in chunks of about 64 KB.
"""

import csv
import io
import time
from collections.abc import Iterator
from datetime import UTC

import sqlalchemy as sa

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
BATCH = 2000  # orders per cursor fetch (and per items query)
CHUNK_BYTES = 64 * 1024
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
    the last chunk. After each batch it yields the CPU (``time.sleep(0)``, gevent's under
    gunicorn), so the hub fans frames out to open dashboards during a long export.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180 line ends
    writer.writerow(COLUMNS)
    query = view.apply(
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
        )
    ).order_by(*view.ordering())
    result = db.session.execute(query.execution_options(yield_per=BATCH))
    zone = shop_time.zone()
    for batch in result.partitions():
        items = _items([row.id for row in batch])
        for row in batch:
            ordered = row.date_ordered.replace(tzinfo=UTC, microsecond=0).astimezone(zone)
            writer.writerow(
                (
                    neutralise(row.order_number),
                    ordered.isoformat(),
                    neutralise(row.username),
                    neutralise(row.status),
                    "true" if row.cancelled else "false",
                    row.total_credits,
                    neutralise(row.delivery_method),
                    neutralise(row.delivery_address or ""),
                    neutralise("; ".join(items.get(row.id, ()))),
                )
            )
            if buffer.tell() >= CHUNK_BYTES:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        time.sleep(0)
    result.close()
    yield buffer.getvalue()


def _items(order_ids: list[int]) -> dict[int, list[str]]:
    """``{order_id: ["2 x Rye bread", ...]}`` for one batch of orders, in one query."""
    rows = db.session.execute(
        sa.select(OrderItem.order_id, OrderItem.quantity, Product.name)
        .join(Product, Product.id == OrderItem.product_id)
        .where(OrderItem.order_id.in_(order_ids))
        .order_by(OrderItem.order_id, OrderItem.id)
    )
    found: dict[int, list[str]] = {}
    for order_id, quantity, name in rows:
        found.setdefault(order_id, []).append(f"{quantity} x {name}")
    return found

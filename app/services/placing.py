"""Writing a new order and its items with Core statements: the checkout's hot path
(``orders.place_order``), where the ORM's unit of work (an ``INSERT`` for the order, one for
its items, an ``UPDATE`` for its number) cost most of a checkout's statements and CPU.

PostgreSQL: one statement takes the order's id from its sequence, inserts the order with
its number and inserts every item (``WITH ... INSERT ... unnest``). Other databases: an
``INSERT`` of the order, an ``UPDATE`` for its number and one multi-row ``INSERT`` of its
items.
"""

import uuid
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models import Order, OrderItem
from app.services import shop_time

COLUMNS = (
    "status",
    "user_id",
    "delivery_method",
    "delivery_address",
    "date_ordered",
    "updated_at",
    "estimated_delivery_date",
    "total_credits",
    "cancelled",
    "refunded_credits",
    "idempotency_key",
    "request_fingerprint",
)

# The order's number needs its id: both come from one nextval. `greatest(5, ...)` keeps
# ids past 99,999 whole (lpad would cut them).
PLACE_ORDER = sa.text(
    f"""
WITH new_order AS (SELECT nextval(pg_get_serial_sequence('orders', 'id')) AS id),
placed AS (
  INSERT INTO orders (id, order_number, {", ".join(COLUMNS)})
  VALUES (
    (SELECT id FROM new_order),
    (SELECT CAST(:prefix AS TEXT) || lpad(id::text, greatest(5, length(id::text)), '0')
       FROM new_order),
    {", ".join(f":{c}" for c in COLUMNS)}
  )
  RETURNING id, order_number
),
items AS (
  INSERT INTO order_items (order_id, product_id, quantity, credit_value)
  SELECT placed.id, line.product_id, line.quantity, line.credit_value
  FROM placed, unnest(CAST(:product_ids AS INTEGER[]), CAST(:quantities AS INTEGER[]),
                      CAST(:credit_values AS INTEGER[]))
         AS line(product_id, quantity, credit_value)
  RETURNING id, product_id
)
SELECT id, order_number,
       (SELECT array_agg(id ORDER BY product_id) FROM items) AS item_ids
FROM placed
"""
)


def number_prefix(placed: datetime) -> str:
    """``ORD-YYYYMMDD-``: the shop's local day (``SHOP_TIMEZONE``) of ``placed`` (naive UTC),
    the day the shop's "today" and date filters put the order in."""
    return f"ORD-{shop_time.today(placed).strftime('%Y%m%d')}-"


def format_order_number(placed: datetime, order_id: int) -> str:
    """``ORD-YYYYMMDD-NNNNN``: ``number_prefix`` and the order's id (at least five digits),
    so numbers are unique across processes and hosts without a shared counter row."""
    return f"{number_prefix(placed)}{order_id:05d}"


def insert_order(order: Order, items: list[OrderItem], products: dict, customer) -> None:
    """Write ``order`` (a new, transient ``Order``: its ``COLUMNS`` set) and ``items``
    (transient ``OrderItem``s, one per product in product id order: ``product_id``,
    ``quantity``, ``credit_value``) in the current transaction, then put them in the
    session as if loaded, with their ids, ``order.customer`` (``customer``),
    ``order.items`` and each item's ``product`` (from ``products``, id → ``Product``) set:
    the answer needs no query and nothing is flushed again. Raises ``IntegrityError``
    when the customer already used the order's idempotency key (the caller settles it)."""
    values = {column: getattr(order, column) for column in COLUMNS}
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        row = connection.execute(
            PLACE_ORDER,
            {
                **values,
                "prefix": number_prefix(order.date_ordered),
                "product_ids": [item.product_id for item in items],
                "quantities": [item.quantity for item in items],
                "credit_values": [item.credit_value for item in items],
            },
        ).one()
        order.id, order.order_number, item_ids = int(row.id), row.order_number, row.item_ids
    else:
        order.id, order.order_number, item_ids = _insert_elsewhere(
            connection, values, order, items
        )
    set_loaded = so.attributes.set_committed_value
    so.make_transient_to_detached(order)
    for item, item_id in zip(items, item_ids, strict=True):
        item.id, item.order_id = item_id, order.id
        so.make_transient_to_detached(item)
        set_loaded(item, "product", products[item.product_id])
        set_loaded(item, "order", order)
    set_loaded(order, "items", items)
    set_loaded(order, "customer", customer)
    set_loaded(order, "tag_rows", [])
    db.session.add(order)


def _insert_elsewhere(connection, values: dict, order: Order, items: list[OrderItem]):
    table, item_table = Order.__table__, OrderItem.__table__
    # Unique placeholder until the id is known.
    placeholder = f"TMP-{uuid.uuid4().hex[:16]}"
    order_id = connection.execute(
        sa.insert(table).values(order_number=placeholder, **values).returning(table.c.id)
    ).scalar()
    number = format_order_number(order.date_ordered, order_id)
    connection.execute(sa.update(table).where(table.c.id == order_id).values(order_number=number))
    rows = [
        {
            "order_id": order_id,
            "product_id": item.product_id,
            "quantity": item.quantity,
            "credit_value": item.credit_value,
        }
        for item in items
    ]
    inserted = connection.execute(
        sa.insert(item_table).returning(item_table.c.id, sort_by_parameter_order=True), rows
    )
    return order_id, number, [item_id for (item_id,) in inserted]

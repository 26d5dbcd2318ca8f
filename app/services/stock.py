"""Stock: a checkout takes it in the same transaction as the charge, a cancel puts it back,
the undo of a cancel takes it again. A checkout takes every line with one
conditional ``UPDATE`` (``stock >= quantity``), its rows locked in product id order, so
concurrent checkouts never take more than there is (the last item goes to exactly one of
them) and never deadlock on each other; the ``stock_non_negative`` CHECK is the database's
own guard behind it.

Products touched in a transaction are stamped with the version it commits as
(``changes.record_change`` calls ``take_touched`` and ``stamp_ids``), so the hub reads
"which products changed since version V" once per tick, whatever the number of open
storefronts.
"""

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, current_app

from app.extensions import db, listen_once
from app.models import Order, Product
from app.services import Conflict

KEY = "stock_touched"


def touch(product_ids) -> None:
    """Remember that this transaction changed these products (stamped at commit time)."""
    db.session.info.setdefault(KEY, set()).update(product_ids)


def take_touched() -> list[int]:
    """The products this transaction changed (``touch``), sorted, forgotten here: the
    caller stamps them with the version it takes (``stamp_ids``)."""
    return sorted(db.session.info.pop(KEY, None) or ())


STAMP = (
    sa.update(Product.__table__)
    .where(Product.__table__.c.id.in_(sa.bindparam("ids", expanding=True)))
    .values(version=sa.bindparam("version"))
)


def stamp_ids(product_ids: list[int], version: int) -> None:
    """Set ``version`` on these products (rows this transaction already holds locks on,
    so this waits for no one)."""
    if product_ids:
        db.session.connection().execute(STAMP, {"ids": product_ids, "version": version})


def _forget(session: so.Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(KEY, None)


def shortage(product: Product, wanted: int) -> str:
    """The words for a checkout that wants more than there is: "Rye bread is out of stock",
    "Only 2 left of Rye bread (you asked for 3)"."""
    if not product.stock:
        return f"{product.name} is out of stock"
    return f"Only {product.stock} left of {product.name} (you asked for {wanted})"


def take(lines: dict[int, int], products: dict[int, Product], prefix: str = "") -> None:
    """Take ``lines`` (product id → quantity) from the stock of tracked products, inside the
    caller's transaction, with one statement whatever the number of lines. Raises
    ``Conflict`` (409: "Only 2 left of Rye bread ...", with ``prefix`` before it) when one
    has too few; the caller rolls back, so nothing is taken (the loaded products then show
    the stock as it is now)."""
    tracked = {pid: lines[pid] for pid in sorted(lines) if products[pid].stock is not None}
    if not tracked:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        params = {"ids": list(tracked), "quantities": list(tracked.values())}
        left = dict(connection.execute(TAKE_POSTGRESQL, params).all())
    else:
        left = dict(connection.execute(_take_statement(tracked)).all())
    for product_id, quantity in tracked.items():
        product = products[product_id]
        if product_id not in left:
            db.session.refresh(product, ["stock"])
            raise Conflict(prefix + shortage(product, quantity), extra=_left(product))
        so.attributes.set_committed_value(product, "stock", left[product_id])
    touch(tracked)


# Every line in one statement. The rows are first locked in id order (``ORDER BY id FOR
# UPDATE``), the order every stock writer keeps, so two checkouts of the same products
# never deadlock, whatever order the ``UPDATE`` itself visits them in; a product missing
# from the answer had too few.
TAKE_POSTGRESQL = sa.text(
    """
WITH locked AS MATERIALIZED (
  SELECT id FROM products WHERE id = ANY(CAST(:ids AS INTEGER[])) ORDER BY id FOR UPDATE
)
UPDATE products SET stock = products.stock - line.quantity
FROM unnest(CAST(:ids AS INTEGER[]), CAST(:quantities AS INTEGER[])) AS line(id, quantity)
WHERE products.id = line.id AND products.id IN (SELECT id FROM locked)
  AND products.stock >= line.quantity
RETURNING products.id, products.stock
"""
)


def _take_statement(tracked: dict[int, int]):
    """Other databases (SQLite locks the whole database for a writer): ``UPDATE products
    SET stock = stock - <quantity of its line> WHERE id IN (...) AND stock >= <that
    quantity> RETURNING id, stock``."""
    products = Product.__table__
    quantity = sa.case(tracked, value=products.c.id)
    return (
        sa.update(products)
        .where(products.c.id.in_(list(tracked)), products.c.stock >= quantity)
        .values(stock=products.c.stock - quantity)
        .returning(products.c.id, products.c.stock)
    )


def _left(product: Product) -> dict:
    return {"product": {"id": product.id, "name": product.name, "stock": product.stock}}


def order_lines(order: Order) -> tuple[dict[int, int], dict[int, Product]]:
    """``(product id → quantity, product id → Product)`` of ``order``'s items."""
    lines: dict[int, int] = {}
    products: dict[int, Product] = {}
    for item in order.items:
        lines[item.product_id] = lines.get(item.product_id, 0) + item.quantity
        products[item.product_id] = item.product
    return lines, products


def put_back(order: Order) -> None:
    """A cancel: the order's items go back into stock (tracked products only)."""
    lines, products = order_lines(order)
    put_back_quantities(lines, products)


def put_back_quantities(quantities: dict[int, int], products: dict[int, Product | None]) -> None:
    """Add ``quantities`` (``{product id: how many}``) back to the tracked products among
    ``products``: one conditional ``UPDATE`` per product, in id order (the order every
    stock writer takes its locks in), each product's loaded ``stock`` set to the new value."""
    back = []
    for product_id in sorted(quantities):
        product = products.get(product_id)
        if product is None or product.stock is None:
            continue
        left = db.session.scalar(
            sa.update(Product)
            .where(Product.id == product_id, Product.stock.is_not(None))
            .values(stock=Product.stock + quantities[product_id])
            .returning(Product.stock)
            .execution_options(synchronize_session=False)
        )
        if left is not None:
            so.attributes.set_committed_value(product, "stock", left)
            back.append(product_id)
    touch(back)


def take_again(order: Order) -> None:
    """The undo of a cancel: take the items again; ``Conflict`` (409) when one has sold out
    since (the caller rolls back)."""
    lines, products = order_lines(order)
    take(lines, products, prefix=f"Cannot undo the cancellation of {order.order_number}: ")


def availability(product: Product) -> dict:
    """What the storefront shows: ``{id, stock: int|null, active, label: "Out of stock" |
    "Only N left" | null}``; ``label`` is set at or below ``LOW_STOCK_THRESHOLD`` (config,
    default 5)."""
    label = None
    if product.stock is not None:
        if product.stock == 0:
            label = "Out of stock"
        elif product.stock <= current_app.config.get("LOW_STOCK_THRESHOLD", 5):
            label = f"Only {product.stock} left"
    return {"id": product.id, "stock": product.stock, "active": product.active, "label": label}


def changed_between(after: int, upto: int) -> list[dict]:
    """``availability`` of the products whose stock or listing changed in versions
    ``after < v <= upto`` (an index range on ``products.version``)."""
    rows = db.session.scalars(
        sa.select(Product)
        .where(Product.version > after, Product.version <= upto)
        .order_by(Product.id)
    )
    return [availability(p) for p in rows]


def init_app(app: Flask) -> None:
    """Forget touched products when a transaction rolls back (a Session event, registered once)."""
    listen_once(so.Session, {"after_soft_rollback": _forget})

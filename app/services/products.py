"""The catalogue as the shop owner edits it: add, edit, restock, withdraw (deactivate).

One set of rules for the HTML forms (``app/routes/catalogue.py``) and the JSON API. Every
write takes a version (``changes.record_catalogue_change``) and stamps the product with it,
so every open storefront shows the new stock or the withdrawal live.
"""

from urllib.parse import urlsplit

import sqlalchemy as sa

from app.extensions import db
from app.models import Product
from app.services import Invalid, paging, stock
from app.services.changes import record_catalogue_change

MAX_CREDITS = 1_000_000
MAX_STOCK = 1_000_000
# name → (max length, required)
TEXT_FIELDS = {"name": (120, True), "category": (60, True), "description": (500, False)}
FIELDS = (*TEXT_FIELDS, "credit_value", "stock", "image_url", "active")


def product_entry(product: Product) -> dict:
    """``{id, name, category, description, credit_value, stock (int|null: not tracked),
    image_url, active, label ("Out of stock" | "Only N left" | null)}``."""
    return {
        "id": product.id,
        "name": product.name,
        "category": product.category,
        "description": product.description,
        "credit_value": product.credit_value,
        "stock": product.stock,
        "image_url": product.image_url,
        "active": product.active,
        "label": stock.availability(product)["label"],
    }


def _int(value, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"{name} must be a whole number", 400)
    if not lo <= value <= hi:
        raise Invalid(f"{name} must be from {lo} to {hi:,}")
    return value


def image_url(value) -> str | None:
    """An ``http(s)://`` URL of at most 500 characters, or ``None`` for none; ``Invalid``
    (422) otherwise (a ``javascript:`` URL in an ``src`` is a classic XSS vector)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise Invalid("image_url must be a string", 400)
    value = value.strip()
    parts = urlsplit(value)
    if len(value) > 500 or parts.scheme not in ("http", "https") or not parts.netloc:
        raise Invalid("image_url must be an http:// or https:// address (at most 500 chars)")
    return value


def parse_product(payload, partial: bool = False) -> dict:
    """Check a JSON product body: ``{name, category, description, credit_value, stock,
    image_url, active}``; all but name, category and credit_value are optional, and with
    ``partial`` (PATCH) every field is. Returns the fields given, cleaned. Raises
    ``Invalid``: 400 for a body that is not an object, an unknown field or a value of the
    wrong type; 422 for a blank or overlong text, credits outside 1..1,000,000, stock
    outside 0..1,000,000 (``null``: not tracked), an image URL that is not http(s)."""
    if not isinstance(payload, dict):
        raise Invalid("Send a JSON object with the product's fields", 400)
    unknown = sorted(set(payload) - set(FIELDS))
    if unknown:
        raise Invalid(f"Unknown field(s): {', '.join(unknown)}; known: {', '.join(FIELDS)}", 400)
    clean = {}
    for name, (longest, required) in TEXT_FIELDS.items():
        if name not in payload:
            if required and not partial:
                raise Invalid(f"{name} is required")
            continue
        value = payload[name]
        if not isinstance(value, str):
            raise Invalid(f"{name} must be a string", 400)
        value = value.strip()
        if (required and not value) or len(value) > longest:
            raise Invalid(f"{name} must be {1 if required else 0} to {longest} characters")
        clean[name] = value
    if "credit_value" in payload or not partial:
        if "credit_value" not in payload:
            raise Invalid("credit_value is required")
        clean["credit_value"] = _int(payload["credit_value"], "credit_value", 1, MAX_CREDITS)
    if "stock" in payload:
        value = payload["stock"]
        clean["stock"] = None if value is None else _int(value, "stock", 0, MAX_STOCK)
    if "image_url" in payload:
        clean["image_url"] = image_url(payload["image_url"])
    if "active" in payload:
        if not isinstance(payload["active"], bool):
            raise Invalid("active must be true or false", 400)
        clean["active"] = payload["active"]
    return clean


def create_product(fields: dict) -> Product:
    """A new product from checked ``fields`` (inside the caller's transaction)."""
    product = Product(**{"description": "", "active": True, **fields})
    db.session.add(product)
    db.session.flush()
    stock.touch([product.id])
    record_catalogue_change()
    return product


def update_product(product: Product, fields: dict) -> Product:
    """Apply checked ``fields`` to ``product``. A new stock is set as given (a restock or
    a count after a stocktake); orders already placed keep their prices."""
    for name, value in fields.items():
        setattr(product, name, value)
    db.session.flush()
    stock.touch([product.id])
    record_catalogue_change()
    return product


def admin_list(q: str | None, show: str, page: int, per_page: int = 50):
    """The catalogue for its admin page: every product (``show``: ``active``, ``inactive``
    or ``all``), filtered by name/category search ``q``, by category then name;
    ``Pagination``."""
    query = sa.select(Product)
    if show == "active":
        query = query.where(Product.active.is_(True))
    elif show == "inactive":
        query = query.where(Product.active.is_(False))
    if q:
        pattern = f"%{q[:100]}%"
        query = query.where(sa.or_(Product.name.ilike(pattern), Product.category.ilike(pattern)))
    return paging.paginate(
        query.order_by(Product.category, Product.name, Product.id), page, per_page
    )

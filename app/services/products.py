"""The catalogue as the shop owner edits it: add, edit, restock, withdraw (deactivate).

One set of rules for the HTML forms (``app/routes/catalogue.py``) and the JSON API. Every
write takes a version (``changes.record_catalogue_change``) and stamps the product with it,
so every open storefront shows the new stock or the withdrawal live.
"""

from typing import Annotated, Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StrictBool,
    StrictInt,
    StrictStr,
    model_validator,
)

from app.extensions import db
from app.models import Product
from app.services import Invalid, paging, stock
from app.services.bodies import Refusal, check, refuse
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


def _web_address(value: str) -> str | None:
    """``value`` stripped, ``None`` when blank; raises ``ValueError`` for one that is not an
    ``http(s)://`` URL of at most 500 characters."""
    value = value.strip()
    if not value:
        return None
    parts = urlsplit(value)
    if len(value) > 500 or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("image_url must be an http:// or https:// address (at most 500 chars)")
    return value


def image_url(value) -> str | None:
    """An ``http(s)://`` URL of at most 500 characters, or ``None`` for none; ``Invalid``
    (422) otherwise (a ``javascript:`` URL in an ``src`` is a classic XSS vector)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid("image_url must be a string", 400)
    try:
        return _web_address(value)
    except ValueError as exc:
        raise Invalid(str(exc)) from None


def _text(name: str, longest: int, required: bool):
    """The type of a text field: a string, stripped, of at most ``longest`` characters (and
    one at least when ``required``)."""

    def clean(value: str) -> str:
        value = value.strip()
        if (required and not value) or len(value) > longest:
            raise refuse("text", f"{name} must be {1 if required else 0} to {longest} characters")
        return value

    return Annotated[StrictStr, AfterValidator(clean)]


def _whole(name: str, lo: int, hi: int):
    """The type of a count: an integer (``true`` is not one) from ``lo`` to ``hi``."""

    def in_range(value: int) -> int:
        if not lo <= value <= hi:
            raise refuse("range", f"{name} must be from {lo} to {hi:,}")
        return value

    return Annotated[StrictInt, AfterValidator(in_range)]


def _url(value: str | None) -> str | None:
    try:
        return None if value is None else _web_address(value)
    except ValueError as exc:
        raise refuse("url", str(exc)) from None


class ProductPatch(BaseModel):
    """A product's fields, each optional (``PATCH``): what was given is ``model_fields_set``
    (a default is never validated, so ``null`` stays a wrong type where it is one)."""

    model_config = ConfigDict(strict=True)

    name: _text("name", *TEXT_FIELDS["name"]) = None
    category: _text("category", *TEXT_FIELDS["category"]) = None
    description: _text("description", *TEXT_FIELDS["description"]) = None
    credit_value: _whole("credit_value", 1, MAX_CREDITS) = None
    stock: _whole("stock", 0, MAX_STOCK) | None = None  # null: not tracked
    image_url: Annotated[StrictStr | None, AfterValidator(_url)] = None
    active: StrictBool = None

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data: Any) -> Any:
        # Named together, before any value is read: a misspelt field is the first thing to fix.
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(FIELDS))
            if unknown:
                raise refuse(
                    "fields",
                    f"Unknown field(s): {', '.join(unknown)}; known: {', '.join(FIELDS)}",
                )
        return data


class ProductBody(ProductPatch):
    """A new product: name, category and credit_value are required."""

    name: _text("name", *TEXT_FIELDS["name"])
    category: _text("category", *TEXT_FIELDS["category"])
    credit_value: _whole("credit_value", 1, MAX_CREDITS)


def _field(name: str, wrong_type: str):
    return (  # a field has one error at most: missing, of the wrong type, or a rule broken
        Refusal((name,), f"{name} is required", 422, ("missing",)),
        Refusal((name,), types=("text", "range", "url")),
        Refusal((name,), wrong_type, 400),
    )


# The order the rules have always been checked in: the first one broken is the answer.
REFUSALS = (
    Refusal((), "Send a JSON object with the product's fields", 400, ("model_type",)),
    Refusal((), status=400, types=("fields",)),
    *(_field(name, f"{name} must be a string") for name in TEXT_FIELDS),
    *(_field(name, f"{name} must be a whole number") for name in ("credit_value", "stock")),
    _field("image_url", "image_url must be a string"),
    _field("active", "active must be true or false"),
)


def parse_product(payload, partial: bool = False) -> dict:
    """Check a JSON product body (``ProductBody``; ``ProductPatch`` with ``partial``):
    ``{name, category, description, credit_value, stock, image_url, active}``; all but
    name, category and credit_value are optional, and with ``partial`` (PATCH) every field
    is. Returns the fields given, cleaned, in ``FIELDS``' order. Raises ``Invalid``: 400
    for a body that is not an object, an unknown field or a value of the wrong type; 422
    for a missing required field, a blank or overlong text, credits outside 1..1,000,000,
    stock outside 0..1,000,000 (``null``: not tracked), an image URL that is not http(s).
    One refusal per body: the first in ``REFUSALS``' order (unknown fields, then field by
    field)."""
    body = check(ProductPatch if partial else ProductBody, payload, REFUSALS)
    return {name: getattr(body, name) for name in FIELDS if name in body.model_fields_set}


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

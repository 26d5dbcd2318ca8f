"""The catalogue as CSV: ``flask import-products FILE.csv`` and ``flask export-products``,
so a shop gets its real products without demo data.

A file has a header row naming its columns (``COLUMNS``, any order; unknown names are
refused). Import is all-or-nothing: every line is checked first and every problem is
reported with its line number; nothing is written unless all lines are good. It is
idempotent by name: a product whose name exists is updated, a new name is added, and a
second import of the same file changes nothing. A new column is one more ``Column`` in
``COLUMNS`` (its parser turns the cell's text into the model's value or raises
``ValueError`` with the message to show).
"""

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from app.models import Product
from app.models.limits import MAX_DB_INT
from app.services import Invalid, products, stock
from app.services.changes import record_catalogue_change
from app.services.export import neutralise

_INT = re.compile(r"[0-9]{1,10}")
# What export.neutralise added (a "'" before a formula start): taken off again on import,
# so an exported file imports back unchanged.
_NEUTRALISED = re.compile(r"(^|[;,\t\r\n])( *)'(?=[=+\-@\t\r])")


def _text(limit: int, required: bool):
    def parse(raw: str) -> str:
        value = _NEUTRALISED.sub(r"\1\2", raw.strip())
        if required and not value:
            raise ValueError("is empty")
        if len(value) > limit:
            raise ValueError(f"has {len(value)} characters, at most {limit}")
        return value

    return parse


def _stock(raw: str) -> int | None:
    """Units on hand, 0..1,000,000; an empty cell is a product whose stock is not tracked
    (it never runs out)."""
    raw = raw.strip()
    if not raw:
        return None
    if not _INT.fullmatch(raw) or not 0 <= int(raw) <= products.MAX_STOCK:
        raise ValueError(
            f"must be empty (not tracked) or a whole number from 0 to {products.MAX_STOCK:,}"
        )
    return int(raw)


def _image(raw: str) -> str | None:
    try:
        return products.image_url(raw)
    except Invalid as exc:
        raise ValueError(exc.message) from None


def _credits(raw: str) -> int:
    raw = raw.strip()
    if not _INT.fullmatch(raw) or not 1 <= int(raw) <= MAX_DB_INT:
        raise ValueError(f"must be a whole number of credits from 1 to {MAX_DB_INT}")
    return int(raw)


@dataclass(frozen=True)
class Column:
    """A CSV column: its ``name`` (the header and the model's attribute), whether every
    file needs it, its ``parse(text) → value`` and ``default`` when the file has no such
    column (a new product; an existing one keeps its value)."""

    name: str
    required: bool
    parse: Callable[[str], object]
    default: object = None


COLUMNS = (
    Column("name", True, _text(120, required=True)),
    Column("category", True, _text(60, required=True)),
    Column("credit_value", True, _credits),
    Column("description", False, _text(500, required=False), ""),
    Column("stock", False, _stock),
    Column("image_url", False, _image),
)
MAX_LINES = 100_000


class CatalogueErrors(Invalid):
    """The file was refused (422); ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__(f"{len(problems)} problem(s); nothing was imported")
        self.problems = problems


def read(text: str) -> list[dict]:
    """The products in CSV ``text`` (a UTF-8 string, a byte order mark allowed), as dicts
    of the file's columns. Raises ``CatalogueErrors`` listing every problem: no header,
    unknown or missing columns, and per line (``line N: column: problem``) a bad value, a
    wrong number of cells or a name given twice."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    known = {c.name: c for c in COLUMNS}
    problems = [f"line 1: unknown column {h!r}" for h in header if h not in known]
    problems += [
        f"line 1: missing column {c.name!r}"
        for c in COLUMNS
        if c.required and c.name not in header
    ]
    if not header:
        problems = ["the file is empty: its first line must name the columns"]
    if problems:
        raise CatalogueErrors(problems)
    rows, seen = [], {}
    for line, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, as spreadsheets leave them
        if len(cells) != len(header):
            problems.append(f"line {line}: {len(cells)} cells, the header has {len(header)}")
            continue
        row = {}
        for name, raw in zip(header, cells, strict=True):
            try:
                row[name] = known[name].parse(raw)
            except ValueError as exc:
                problems.append(f"line {line}: {name} {exc}")
        if "name" in row:
            if row["name"] in seen:
                problems.append(
                    f"line {line}: name {row['name']!r} again (line {seen[row['name']]})"
                )
            seen.setdefault(row["name"], line)
        rows.append(row)
        if line > MAX_LINES:
            problems.append(f"line {line}: more than {MAX_LINES} lines")
            break
    if problems:
        raise CatalogueErrors(problems)
    return rows


def apply(rows: list[dict]) -> dict:
    """Add or update the products of ``rows`` (``read``'s answer) by name, in the caller's
    transaction. Returns ``{"added": int, "updated": int, "unchanged": int}``."""
    names = [row["name"] for row in rows]
    existing = {
        p.name: p for p in db.session.scalars(sa.select(Product).where(Product.name.in_(names)))
    }
    made = {"added": 0, "updated": 0, "unchanged": 0}
    for row in rows:
        product = existing.get(row["name"])
        if product is None:
            defaults = {c.name: c.default for c in COLUMNS if c.name not in row}
            db.session.add(Product(**defaults, **row))
            made["added"] += 1
        elif any(getattr(product, k) != v for k, v in row.items()):
            for key, value in row.items():
                setattr(product, key, value)
            made["updated"] += 1
        else:
            made["unchanged"] += 1
    db.session.flush()
    if made["added"] or made["updated"]:
        # Every storefront shows the new stock live, as after an edit on the products page.
        touched = db.session.scalars(sa.select(Product.id).where(Product.name.in_(names)))
        stock.touch(touched)
        record_catalogue_change()
    return made


def write(out) -> int:
    """Every product to ``out`` as CSV with all ``COLUMNS`` (by name; text quoted and
    neutralised against formula injection, as the orders export). Returns how many."""
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow([c.name for c in COLUMNS])
    count = 0
    for product in db.session.scalars(sa.select(Product).order_by(Product.category, Product.name)):
        values = [getattr(product, c.name) for c in COLUMNS]
        writer.writerow([neutralise(v) if isinstance(v, str) else v for v in values])
        count += 1
    return count

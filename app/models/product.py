"""The catalogue, with stock."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models._search import trigram_index


class Product(db.Model):
    __tablename__ = "products"
    __table_args__ = (
        sa.CheckConstraint("credit_value > 0", name="credit_value_positive"),
        trigram_index("products", "name"),
        # The database refuses a negative stock whatever the code does: two checkouts for the
        # last item cannot both take it (docs/design.md §3).
        sa.CheckConstraint("stock IS NULL OR stock >= 0", name="stock_non_negative"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120), index=True)
    category: so.Mapped[str] = so.mapped_column(sa.String(60), index=True)
    description: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    credit_value: so.Mapped[int]
    active: so.Mapped[bool] = so.mapped_column(default=True)
    # Units on hand; ``None``: not tracked (always available: a service, a download).
    stock: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    image_url: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    # The change version (``order_versions``) of its last stock or catalogue change:
    # "which products changed since version V" is an index range, read once per hub tick for the
    # storefront's live stock (docs/architecture.md).
    version: so.Mapped[int] = so.mapped_column(
        sa.BigInteger, default=0, server_default="0", index=True
    )

    def __repr__(self) -> str:
        return f"<Product {self.name}>"

"""The catalogue."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models._search import trigram_index


class Product(db.Model):
    __tablename__ = "products"
    __table_args__ = (
        sa.CheckConstraint("credit_value > 0", name="credit_value_positive"),
        trigram_index("products", "name"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120), index=True)
    category: so.Mapped[str] = so.mapped_column(sa.String(60), index=True)
    description: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    credit_value: so.Mapped[int]
    active: so.Mapped[bool] = so.mapped_column(default=True)

    def __repr__(self) -> str:
        return f"<Product {self.name}>"

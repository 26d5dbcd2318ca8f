"""Internal notes on orders: admins only, never shown to the customer."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models.timestamps import utcnow


class OrderNote(db.Model):
    """The current text of one note. Its history (written, edited, deleted) is in
    ``order_activity`` (kinds ``note``, ``note_edited``, ``note_deleted``, ``ref_id`` =
    this id), so every dashboard hears of it like any order change. A deleted note keeps
    its row with ``deleted`` set: the activity entries that name it stay meaningful."""

    __tablename__ = "order_notes"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    order_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    author_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    text: so.Mapped[str] = so.mapped_column(sa.String(1000))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    deleted: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())

    author = so.relationship("User")

    def __repr__(self) -> str:
        return f"<OrderNote {self.id} order={self.order_id}>"

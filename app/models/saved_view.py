"""Saved views: a named set of the orders table's query arguments, one click away."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models.timestamps import utcnow


class SavedView(db.Model):
    """``query`` is the view's normalised query string (``OrderFilter.params``, so it
    always parses); ``shared`` views are listed for every admin, the others for their
    owner only. Names are unique per owner."""

    __tablename__ = "saved_views"
    __table_args__ = (sa.UniqueConstraint("owner_id", "name", name="uq_saved_views_owner_name"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    owner_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: so.Mapped[str] = so.mapped_column(sa.String(60))
    query: so.Mapped[str] = so.mapped_column(sa.String(600))
    shared: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    owner = so.relationship("User")

    def __repr__(self) -> str:
        return f"<SavedView {self.name!r} owner={self.owner_id}>"

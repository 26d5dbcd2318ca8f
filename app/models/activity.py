"""Order activity: one row per order event (created, status move, cancellation, the undo of
a move or a cancellation, an internal note written, edited or deleted, tags changed, a
partial refund), written in the same transaction as the change, for the dashboard's activity
feed, each order's history and the live frames."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models.timestamps import utcnow

# An undo is a change of its own (its own version, counts and revenue deltas), never an edit
# or a deletion of the entry it reverts: the history and the resume log stay append-only.
# Kinds that move the order's status or cancellation: the ones a stale-action check and
# an undo look at ("the order's latest change"), and the customer's timeline shows.
STATE_KINDS = ("created", "status", "cancelled", "status_undone", "cancel_undone")
# Internal: admins only, never in anything the customer receives (docs/design.md §4).
INTERNAL_KINDS = ("note", "note_edited", "note_deleted", "tagged")
ACTIVITY_KINDS = (*STATE_KINDS, *INTERNAL_KINDS, "refunded")
_KIND_CHECK = "kind IN (" + ", ".join(f"'{kind}'" for kind in ACTIVITY_KINDS) + ")"


class OrderActivity(db.Model):
    """Who did what to which order, when. ``actor_id`` is ``None`` for the system (a CLI job,
    the simulator); ``from_status``/``to_status`` are the statuses around a move (``None``
    ``from_status`` for a new order; for ``status_undone`` the status the order left, going
    back); ``note`` carries a cancellation reason."""

    __tablename__ = "order_activity"
    __table_args__ = (sa.CheckConstraint(_KIND_CHECK, name="activity_kind_known"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    order_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    actor_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    from_status: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    to_status: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    note: so.Mapped[str | None] = so.mapped_column(sa.String(1000))
    ref_id: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    credits: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    # Indexed: the feed reads the newest rows first.
    at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    # The change version (order_versions) this change committed as (the SSE ``id:``): "what changed
    # since version V" is an index range, for resumes and for commits of other processes.
    # ``None`` only for entries written before versions were recorded.
    version: so.Mapped[int | None] = so.mapped_column(sa.BigInteger, index=True)

    order = so.relationship("Order")
    actor = so.relationship("User")

    def __repr__(self) -> str:
        return f"<OrderActivity {self.kind} order={self.order_id} {self.to_status}>"

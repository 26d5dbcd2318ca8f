"""Accounts: customers and admins, with a credit balance."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from app import offload
from app.extensions import db, login_manager
from app.models._time import utcnow

ROLES = ("customer", "admin")


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint("credits >= 0", name="credits_non_negative"),
        sa.CheckConstraint("role IN ('customer', 'admin')", name="role_known"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True, index=True)
    # NFKC + case-folded username (app/services/usernames.py): the unique key and what
    # logins look up, so "Alice" cannot register beside "alice".
    username_canonical: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True, index=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True, index=True)
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(256))
    role: so.Mapped[str] = so.mapped_column(sa.String(16), default="customer")
    credits: so.Mapped[int] = so.mapped_column(default=0)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    orders = so.relationship("Order", back_populates="customer", lazy="dynamic")

    def set_password(self, password: str) -> None:
        """Store a Werkzeug (scrypt) hash, never the password; hashed off the gevent loop
        (``app/offload.py``)."""
        self.password_hash = offload.run(generate_password_hash, password)

    def check_password(self, password: str) -> bool:
        """``True`` when ``password`` matches the stored hash (verified off the loop)."""
        return offload.run(check_password_hash, self.password_hash, password)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def __repr__(self) -> str:
        return f"<User {self.username} ({self.role})>"


# Built once: each request's load then skips building and hashing the statement (a reconnect
# storm is thousands of these a second).
_BY_ID = sa.select(User).where(User.id == sa.bindparam("user_id"))


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Flask-Login callback: the ``User`` for a session's id, or ``None``."""
    try:
        return db.session.scalars(_BY_ID, {"user_id": int(user_id)}).one_or_none()
    except ValueError:
        return None

"""Accounts: customers and admins, with a credit balance."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from app import offload
from app.extensions import db
from app.models._search import trigram_index
from app.models.timestamps import utcnow

ROLES = ("customer", "admin")


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint("credits >= 0", name="credits_non_negative"),
        sa.CheckConstraint("role IN ('customer', 'admin')", name="role_known"),
        trigram_index("users", "username"),
        trigram_index("users", "email"),
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
    # A deactivated account cannot log in, and its sessions end (flask deactivate-user).
    active: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    # When the password last changed (UTC; None: never). Login device cookies made before
    # it no longer exempt a browser from the login limits (app/login_guard.py).
    password_changed_at: so.Mapped[datetime | None] = so.mapped_column(default=None)

    orders = so.relationship("Order", back_populates="customer", lazy="dynamic")

    # The server-side session this request runs in (``UserSession.id``), set when the
    # session is started or loaded; a plain attribute, not a column.
    session_id = None

    @property
    def is_active(self) -> bool:
        """Flask-Login refuses to log in an inactive user."""
        return bool(self.active)

    def get_id(self) -> str:
        """Flask-Login's alternative id: ``"<user id>:<session id>"``. The cookie then
        names a server-side session, which logout and the like can end for good."""
        return f"{self.id}:{self.session_id}"

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

"""Server-side records of signed-in sessions: the session cookie names one, and a session
without its record is anonymous. Ending a session deletes its record, so a copied cookie is
worth nothing after logout, a password change or a demotion. A record also expires: idle
for ``SESSION_IDLE_TIMEOUT_SECONDS`` or older than ``SESSION_ABSOLUTE_TIMEOUT_SECONDS``
(OWASP Session Management Cheat Sheet, "Session Expiration"); ``app/services/sessions.py``
holds the rules."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models.timestamps import utcnow


class UserSession(db.Model):
    """One signed-in browser. ``id`` is a random token (``secrets.token_urlsafe``) carried
    in the signed session cookie through Flask-Login's alternative id ``"<user>:<id>"``;
    ``user_agent`` and ``ip`` are shown on the account page so people recognise their own
    sessions; ``last_seen_at`` (UTC, written at most every ``SESSION_TOUCH_SECONDS``) is
    what the idle timeout counts from."""

    __tablename__ = "user_sessions"

    id: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    last_seen_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    user_agent: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    ip: so.Mapped[str] = so.mapped_column(sa.String(45), default="")

    def __repr__(self) -> str:
        return f"<UserSession user={self.user_id} {self.id[:6]}…>"

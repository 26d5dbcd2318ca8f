"""Rate-limit counters kept in the database (PostgreSQL without Redis), so every worker and
host counts against the same limits (``app/limits_storage.py``)."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db


class RateLimitCounter(db.Model):
    """One fixed-window counter: ``key`` is Flask-Limiter's key (the limit and whom it
    counts), ``count`` the hits in the window that ends at ``expires_at`` (UTC)."""

    __tablename__ = "rate_limit_counters"

    key: so.Mapped[str] = so.mapped_column(sa.String(255), primary_key=True)
    count: so.Mapped[int] = so.mapped_column(default=0)
    expires_at: so.Mapped[datetime] = so.mapped_column(index=True)
